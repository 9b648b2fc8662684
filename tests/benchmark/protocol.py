"""The server alone: Streamlit sessions driven over its websocket protocol, without a browser.

A real tab's rerun requests (the binary BackMsg frames it sent when a student opened a lesson and
changed its main control, captured through CDP) are replayed by light clients, each its own
session. A request's time runs from sending it to the server's `script_finished` message: what the
server takes, without any browser rendering on the same cores.
"""
from __future__ import annotations

import asyncio
import base64
import time

SCRIPT_DONE = "script_finished"


async def capture_requests(context, page, action) -> list[bytes]:
    """Run `await action()` in `page` and return the binary frames the page sent meanwhile."""
    sent: list[bytes] = []
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    cdp.on("Network.webSocketFrameSent",
           lambda event: sent.append(base64.b64decode(event["response"]["payloadData"]))
           if event["response"].get("opcode") == 2 else None)
    await action()
    await cdp.detach()
    return sent


async def replay(url: str, requests: list[bytes], timeout_s: float = 60.0) -> tuple[list[float], int, int]:
    """Open a session at `url` and send each request in turn. Returns the seconds until each run
    finished, the number of elements the runs drew and the number of exceptions among them."""
    import websockets
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    times, elements, exceptions = [], 0, 0
    async with websockets.connect(stream, subprotocols=["streamlit"], origin=url, max_size=None) as socket:
        for request in requests:
            started = time.perf_counter()
            await socket.send(request)
            while True:
                message = ForwardMsg()
                message.ParseFromString(await asyncio.wait_for(socket.recv(), timeout_s))
                kind = message.WhichOneof("type")
                if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                    elements += 1
                    exceptions += message.delta.new_element.WhichOneof("type") == "exception"
                if kind == SCRIPT_DONE:
                    break
            times.append(time.perf_counter() - started)
    return times, elements, exceptions
