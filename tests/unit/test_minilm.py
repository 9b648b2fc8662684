"""all-MiniLM-L6-v2 (models/minilm.py) against the reference libraries on the same package files."""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the reference libraries must not reach for the Hub

import pytest
import torch

from models.minilm import load_minilm, minilm_model_dir

SENTENCES = [
    "The cat sat on the mat.",
    "A man is playing a guitar.",
    "Naïve café owners don't like unbelievable tokenization!",
    "",
    "word " * 400,  # longer than the 256-wordpiece limit
]


@pytest.fixture(scope="module")
def model():
    return load_minilm()


@pytest.fixture(scope="module")
def sentence_transformer():
    st = pytest.importorskip("sentence_transformers")
    return st.SentenceTransformer(str(minilm_model_dir()), device="cpu")


def test_encode_shapes_and_tokens(model):
    out = model.encode("Attention is all you need")
    T = len(out.tokens)
    assert out.tokens[0] == "[CLS]" and out.tokens[-1] == "[SEP]" and "attention" in out.tokens
    assert out.input_ids.shape == (T,)
    assert out.attentions.shape == (6, 12, T, T)
    assert torch.allclose(out.attentions.sum(-1), torch.ones(6, 12, T), atol=1e-5)
    assert out.hidden_states.shape == (7, T, 384)
    assert out.embedding.shape == (384,) and abs(out.embedding.norm().item() - 1) < 1e-5
    assert not out.truncated


def test_empty_string_gives_cls_sep(model):
    out = model.encode("")
    assert out.tokens == ["[CLS]", "[SEP]"] and out.attentions.shape == (6, 12, 2, 2)
    assert model.embed([""]).shape == (1, 384)


def test_long_text_is_truncated_to_256_wordpieces(model):
    out = model.encode("word " * 400)
    assert out.truncated and len(out.tokens) == 256 and out.tokens[-1] == "[SEP]"


def test_embed_matches_encode_despite_padding(model):
    batch = model.embed(SENTENCES, batch_size=2)  # (N, 384), padded batches
    singles = torch.stack([model.encode(s).embedding for s in SENTENCES])
    assert batch.shape == (len(SENTENCES), 384)
    assert torch.allclose(batch, singles, atol=1e-5)


def test_similar_sentences_are_closer(model):
    a, b, c = model.embed(["A dog runs in the park.", "A puppy is running on the grass.", "Stock prices fell."])
    assert a @ b > a @ c + 0.3


def test_embeddings_equal_sentence_transformers(model, sentence_transformer):
    expected = sentence_transformer.encode(SENTENCES, convert_to_tensor=True)  # (N, 384)
    assert torch.allclose(model.embed(SENTENCES), expected, atol=1e-4)
    for text, row in zip(SENTENCES, expected):
        assert torch.allclose(model.encode(text).embedding, row, atol=1e-4)


def test_attentions_equal_transformers_eager_bert(model):
    transformers = pytest.importorskip("transformers")
    bert = transformers.BertModel.from_pretrained(str(minilm_model_dir()), attn_implementation="eager").eval()
    out = model.encode(SENTENCES[2])
    with torch.no_grad():
        ref = bert(out.input_ids[None], output_attentions=True, output_hidden_states=True)
    assert torch.allclose(torch.stack(ref.attentions)[:, 0], out.attentions, atol=1e-4)  # (6, 12, T, T)
    assert torch.allclose(torch.stack(ref.hidden_states)[:, 0], out.hidden_states, atol=1e-4)  # (7, T, 384)


def test_tokens_equal_transformers_tokenizer(model):
    transformers = pytest.importorskip("transformers")
    tok = transformers.AutoTokenizer.from_pretrained(str(minilm_model_dir()))
    for text in SENTENCES:
        expected = tok(text, truncation=True, max_length=256)["input_ids"]
        assert model.encode(text).input_ids.tolist() == expected
