"""A class through a load balancer (issue 19): three replicas of the app behind Debian's nginx with
sticky sessions (deploy/local_class.py, configured as the Kubernetes Ingress is).

Students in separate browser contexts (separate cookies) open a page of pictures (the features
lesson's gallery, images from st.image, served from the media store of the replica that drew them).
Every session completes, every image loads through nginx, and every response a student gets comes
from one replica. Then the replica of the first student stops: its students reconnect to another
replica and see their page again, while the students of the other replicas stay on theirs and keep
working.
"""
from __future__ import annotations

import os
import shutil

import pytest

from deploy.local_class import LocalClass
from tests.e2e.conftest import USABLE, exceptions, open_view, wait_until

PAGE = "features"  # its default view draws 17 images with st.image
TITLE = "Feature visualization"
MAX_STUDENTS = 10
IMAGES_LOADED = """() => { const media = Array.from(document.images).filter(i => i.src.includes('/media/'));
  return media.length > 0 && media.every(i => i.complete && i.naturalWidth > 0); }"""


@pytest.fixture(scope="module")
def local_class(tmp_path_factory):
    if shutil.which("nginx") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but no nginx: .ci/run must install Debian's nginx")
        pytest.skip("no nginx (Debian: apt-get install nginx)")
    with LocalClass(replicas=3, log_dir=tmp_path_factory.mktemp("replicas")) as cluster:
        yield cluster


class Student:
    """One browser context (its own cookie jar) and the replica named by every response it got."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.replicas: list[str] = []
        self.failed: list[str] = []
        self.context.on("response", self._record)
        self.page = self.context.new_page()
        self.page.goto(f"{url}/{PAGE}")

    def _record(self, response) -> None:
        self.replicas.append(response.headers.get("x-replica", "none"))
        if "/media/" in response.url and response.status != 200:
            self.failed.append(f"{response.status} {response.url}")

    @property
    def replica(self) -> str:
        return self.replicas[0]

    def wait_usable(self, timeout_ms: int = 180_000) -> None:
        self.page.wait_for_function(USABLE, timeout=timeout_ms, polling=200)
        self.page.wait_for_function(IMAGES_LOADED, timeout=timeout_ms, polling=200)
        assert TITLE in self.page.locator("body").inner_text()
        assert exceptions(self.page) == [] and self.failed == []


def test_students_stick_to_a_replica_and_move_when_it_stops(browser, local_class):
    students: list[Student] = []
    while len(students) < 4 or len({s.replica for s in students}) < 2:  # at least two replicas in use
        assert len(students) < MAX_STUDENTS, "every student landed on one replica: nginx does not balance"
        students.append(Student(browser, local_class.url))
        students[-1].wait_usable()
    try:
        for student in students:  # every request of a student, page, websocket and media, reached one replica
            assert set(student.replicas) == {student.replica}, student.replicas
        stopped = students[0].replica
        index = next(i for i in local_class.replicas if local_class.replica_address(i) == stopped)
        moved = [s for s in students if s.replica == stopped]
        stayed = [s for s in students if s.replica != stopped]
        assert moved and stayed
        seen_before = {id(s): len(s.replicas) for s in students}
        local_class.stop_replica(index)

        for student in moved:  # reconnects through nginx to another replica and draws its page again
            wait_until(student.page, lambda s=student: any(r not in (stopped, "none")
                                                           for r in s.replicas[seen_before[id(s)]:]),
                       120_000, what="a response from another replica after the stop")
            student.wait_usable()
            assert set(student.replicas[seen_before[id(student)]:]) - {stopped} != set()
        for student in stayed:  # undisturbed: the same replica, and the page still answers
            assert open_view(student.page, PAGE, "Feature maps", '[data-testid="stImage"] img') >= 1
            student.page.wait_for_function(IMAGES_LOADED, timeout=120_000, polling=200)
            assert set(student.replicas) == {student.replica}, student.replicas
            assert exceptions(student.page) == [] and student.failed == []
    finally:
        for student in students:
            student.context.close()
