"""A local server that speaks enough of the Hugging Face Hub's protocol for the app's tests, set as
HF_ENDPOINT: dataset repositories whose files `datasets.load_dataset(..., streaming=True)` reads (the
repo info, the file tree, file downloads; CSV files, or Parquet files that carry their `datasets`
features such as class names), model uploads as `HfApi.create_repo` and `upload_folder` send them
(every file as a regular blob), and the Hub's error answers (`X-Error-Code` headers, which
huggingface_hub turns into RepositoryNotFoundError / GatedRepoError) for everything else."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _entry(path: str, content: bytes) -> dict:
    return {"type": "file", "path": path, "size": len(content), "oid": hashlib.sha1(content).hexdigest()}


class FakeHub:
    """`datasets`: {repo id: {file path: content}}; `gated`: repo ids (models or datasets) that need a
    token. Any other repository does not exist. `url` is the endpoint; `requests` lists what was asked.
    `write_tokens` may create model repositories under `owner` and upload to them; `models` holds what
    was uploaded ({repo id: {"private": bool, "files": {path: content}}})."""

    def __init__(
        self,
        datasets: Mapping[str, Mapping[str, bytes]] | None = None,
        gated: tuple[str, ...] = (),
        write_tokens: tuple[str, ...] = (),
        owner: str = "learner",
    ) -> None:
        self.datasets = {repo: dict(files) for repo, files in (datasets or {}).items()}
        self.gated = gated
        self.write_tokens = write_tokens
        self.owner = owner
        self.models: dict[str, dict] = {}
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                hub._answer(self)

            do_HEAD = do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- answers ----------------------------------------------------------------------------------

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        self.requests.append(f"{request.command} {request.path}")
        parsed = urlparse(request.path)
        path = unquote(parsed.path)
        if request.command == "POST" and self._upload(request, path):
            return
        repo = next((r for r in self.datasets if f"/datasets/{r}/" in path + "/"), None)
        gated = next((g for g in self.gated if g in path), None)
        if gated:
            return self._error(
                request,
                401,
                "GatedRepo",
                f"Access to {gated} is restricted. You must have access to it and be authenticated to access it.",
            )
        if repo is None:
            return self._error(request, 404, "RepoNotFound", "Repository not found")
        files = self.datasets[repo]
        api = f"/api/datasets/{repo}"
        if path in (api, f"{api}/revision/main", f"{api}/revision/{COMMIT}"):
            return self._json(
                request,
                {
                    "id": repo,
                    "_id": "0" * 24,
                    "sha": COMMIT,
                    "private": False,
                    "gated": False,
                    "disabled": False,
                    "downloads": 0,
                    "likes": 0,
                    "tags": [],
                    "cardData": {},
                    "lastModified": "2026-01-01T00:00:00.000Z",
                    "siblings": [{"rfilename": name} for name in files],
                },
            )
        if path.startswith(f"{api}/tree/"):
            folder = path.split("/tree/", 1)[1].partition("/")[2].strip("/")
            recursive = parse_qs(parsed.query).get("recursive", ["false"])[0].lower() == "true"
            return self._json(request, self._tree(files, folder, recursive))
        resolve = f"/datasets/{repo}/resolve/"
        if path.startswith(resolve):
            name = path[len(resolve) :].partition("/")[2]
            if name not in files:
                return self._error(request, 404, "EntryNotFound", f"{name} does not exist")
            return self._file(request, files[name])
        return self._error(request, 404, "EntryNotFound", "Not found")

    def _upload(self, request: BaseHTTPRequestHandler, path: str) -> bool:
        """Answer the model-upload routes (repo creation, YAML check, preupload, commit); False for others."""
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        routes = ("/api/repos/create", "/api/validate-yaml")
        model = re.fullmatch(r"/api/models/([^/]+/[^/]+)/(preupload|commit)/main", path)
        if path not in routes and model is None:
            return False
        if path == "/api/validate-yaml":
            self._json(request, {"errors": [], "warnings": []})
            return True
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token not in self.write_tokens:
            self._error(request, 401, "Unauthorized", "Invalid credentials in Authorization header")
            return True
        if path == "/api/repos/create":
            payload = json.loads(body)
            repo = f"{payload.get('organization') or self.owner}/{payload['name']}"
            if repo.split("/")[0] != self.owner:
                self._error(request, 403, "Forbidden", f"You don't have the rights to create a model under {repo}")
                return True
            self.models.setdefault(repo, {"private": payload.get("visibility") == "private", "files": {}})
            self._json(request, {"url": f"{self.url}/{repo}"})
            return True
        repo, step = model.groups()
        if repo not in self.models:
            self._error(request, 404, "RepoNotFound", "Repository not found")
        elif step == "preupload":
            files = json.loads(body)["files"]
            answer = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
            self._json(request, {"files": answer})
        else:
            for line in body.splitlines():
                item = json.loads(line)
                if item["key"] == "file":
                    self.models[repo]["files"][item["value"]["path"]] = base64.b64decode(item["value"]["content"])
            self._json(
                request,
                {"commitUrl": f"{self.url}/{repo}/commit/{COMMIT}", "commitOid": COMMIT, "pullRequestUrl": None},
            )
        return True

    @staticmethod
    def _tree(files: Mapping[str, bytes], folder: str, recursive: bool) -> list[dict]:
        prefix = folder + "/" if folder else ""
        entries, folders = [], set()
        for name, content in files.items():
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix) :]
            if "/" in rest and not recursive:
                folders.add(prefix + rest.split("/")[0])
                continue
            entries.append(_entry(name, content))
            if recursive:
                parts = rest.split("/")[:-1]
                folders.update(prefix + "/".join(parts[: i + 1]) for i in range(len(parts)))
        return [{"type": "directory", "path": f, "oid": "0" * 40} for f in sorted(folders)] + entries

    @staticmethod
    def _json(request: BaseHTTPRequestHandler, data: object) -> None:
        body = json.dumps(data).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)

    @staticmethod
    def _file(request: BaseHTTPRequestHandler, content: bytes) -> None:
        request.send_response(200)
        request.send_header("Content-Length", str(len(content)))
        request.send_header("ETag", f'"{hashlib.sha1(content).hexdigest()}"')
        request.send_header("X-Repo-Commit", COMMIT)
        request.send_header("Accept-Ranges", "bytes")
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(content)

    @staticmethod
    def _error(request: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        body = message.encode()
        request.send_response(status)
        request.send_header("X-Error-Code", code)
        request.send_header("X-Error-Message", message)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)
