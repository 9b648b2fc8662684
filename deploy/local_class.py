"""The Kubernetes topology on one machine: replicas of the app on loopback ports behind Debian's nginx,
with websocket upgrade, hour-long proxy timeouts and cookie-based sticky sessions, as the Ingress in
deploy/kubernetes/ingress.yaml configures ingress-nginx.

    python deploy/local_class.py [--replicas 3] [--port 8080]     (Ctrl-C stops everything)

Stickiness: the first response gives the browser a cookie (REPLICA_COOKIE) holding a random key, and
nginx picks the replica by a consistent hash of that key, so every later request of that browser
(page, websocket, media files of st.image) reaches the same replica. When that replica stops, nginx
marks it failed and the same key hashes to one of the others: the student's page reconnects there
and is drawn again from its URL. Every response names its replica in an X-Replica header (the tests
read it). Needs `nginx` on the PATH (Debian: apt-get install nginx); runs no system service.
"""
from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPLICA_COOKIE = "look_inside_replica"  # the Ingress's session-cookie-name too
UPLOAD_CAP_MB = 10  # .streamlit/config.toml server.maxUploadSize: nginx must let such an upload through

NGINX_CONFIG = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_max_body_size {upload_mb}m;

    # A browser without the cookie gets a fresh random key; with it, its own key.
    map $cookie_{cookie} $replica_key {{ "" $request_id; default $cookie_{cookie}; }}
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}

    upstream app {{
        hash $replica_key consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
            proxy_next_upstream error timeout http_502 http_503;
            add_header Set-Cookie "{cookie}=$replica_key; Path=/; Max-Age=86400; SameSite=Lax; HttpOnly" always;
            add_header X-Replica $upstream_addr always;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_config(port: int, replica_ports: list[int], prefix: Path) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in replica_ports)
    return NGINX_CONFIG.format(prefix=prefix, port=port, servers=servers, cookie=REPLICA_COOKIE,
                               upload_mb=UPLOAD_CAP_MB + 1)


def wait_healthy(url: str, process: subprocess.Popen | None = None, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy within {seconds:.0f} s")


class LocalClass:
    """`replicas` app servers and nginx in front of them; a context manager that stops all of them."""

    def __init__(self, replicas: int = 3, port: int | None = None, log_dir: Path | None = None):
        if shutil.which("nginx") is None:
            raise FileNotFoundError("nginx is not installed (Debian: apt-get install nginx)")
        self.port = port or free_port()
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.prefix = Path(tempfile.mkdtemp(prefix="look-inside-nginx-"))
        self.log_dir = log_dir or self.prefix
        self.replicas: dict[int, subprocess.Popen] = {}
        self.nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replica_address(self, index: int) -> str:
        """What nginx's X-Replica header says for that replica."""
        return f"127.0.0.1:{self.replica_ports[index]}"

    def start(self) -> LocalClass:
        for i, port in enumerate(self.replica_ports):  # the README's start command, on a loopback port
            self.replicas[i] = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.address", "127.0.0.1",
                 "--server.port", str(port), "--server.headless", "true"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(self.log_dir / f"replica-{i}.log", "wb"))
        for i, port in enumerate(self.replica_ports):
            wait_healthy(f"http://127.0.0.1:{port}", self.replicas[i])
        config = self.prefix / "nginx.conf"
        config.write_text(nginx_config(self.port, self.replica_ports, self.prefix))
        self.nginx = subprocess.Popen(["nginx", "-p", str(self.prefix), "-c", str(config), "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=open(self.prefix / "nginx.stderr", "wb"))
        wait_healthy(self.url, self.nginx, seconds=20)
        return self

    def stop_replica(self, index: int) -> None:
        process = self.replicas.pop(index)
        process.terminate()
        process.wait(20)

    def close(self) -> None:
        for index in list(self.replicas):
            self.stop_replica(index)
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(10)
            self.nginx = None

    def __enter__(self) -> LocalClass:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    with LocalClass(args.replicas, args.port) as cluster:
        print(f"{args.replicas} replicas on ports {cluster.replica_ports} behind nginx: {cluster.url}", flush=True)
        try:
            while all(p.poll() is None for p in cluster.replicas.values()):
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
