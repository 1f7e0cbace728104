"""A ClickHouse HTTP endpoint on loopback, answered by the embedded engine.

No ClickHouse server runs on these machines, so the `server` and `cluster`
targets (dbt-clickhouse's own http driver, clickhouse-connect's HTTP client)
are exercised against this: each request is one statement run by chDB — the
real ClickHouse engine — with the HTTP interface's conventions (query in the
URL or body, data after an INSERT's FORMAT clause in the body, settings and
`database` as URL parameters, errors as status 500 with the exception code in
a header). It serves one client at a time; what a server does beyond one
statement (sessions, ON CLUSTER, Keeper) is not here.
"""

import contextlib
import gzip
import http.server
import json
import re
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import zlib
from pathlib import Path

import chdb
import lz4.frame

# URL parameters the HTTP interface consumes itself; anything else is a setting.
TRANSPORT_PARAMS = frozenset({
    'query', 'database', 'default_format', 'session_id', 'session_timeout', 'session_check',
    'query_id', 'quota_key', 'compress', 'decompress', 'wait_end_of_query', 'buffer_size',
    'client_protocol_version', 'role', 'send_progress_in_http_headers',
    'http_headers_progress_interval_ms', 'enable_http_compression', 'user', 'password',
})
_TRAILING_FORMAT = re.compile(r'\bformat\s+(\w+)\s*;?\s*$', re.IGNORECASE)
_INSERT_WITH_DATA = re.compile(r'^\s*insert\s+into\s+(.+?)\s+format\s+(\w+)\s*$', re.IGNORECASE | re.DOTALL)


class ChdbHttpEndpoint:
    """`with ChdbHttpEndpoint(path) as ep:` serves http://127.0.0.1:<ep.port>.

    chDB opens one engine directory per process, so tests run it in a child
    process with `serve()`; `log` (a file) receives every statement executed.
    """

    def __init__(self, path, log=None, cluster=None):
        self.path = str(path)
        self.log = open(log, 'a') if log else None
        self._lock = threading.Lock()
        self._spool = Path(tempfile.mkdtemp(prefix='chdb-http-'))
        self.connection_string = self.path
        if cluster:
            # A one-replica cluster whose replica is this process (the tcp_port it names is
            # its own), so clusterAllReplicas() runs locally; ON CLUSTER DDL still needs Keeper.
            config = self._spool / 'cluster.xml'
            config.write_text(
                f'<clickhouse><tcp_port>9000</tcp_port><remote_servers><{cluster}><shard><replica>'
                f'<host>localhost</host><port>9000</port></replica></shard></{cluster}>'
                '</remote_servers></clickhouse>')
            self.connection_string = f'{self.path}?config-file={config}'

    def __enter__(self):
        self._conn = chdb.connect(self.connection_string)
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._serve(b'')

            def do_POST(self):
                body = self._read_body()
                encoding = self.headers.get('Content-Encoding')
                if encoding == 'gzip':
                    body = gzip.decompress(body)
                elif encoding == 'deflate':
                    body = zlib.decompress(body)
                elif encoding == 'lz4':
                    body = lz4.frame.decompress(body)
                elif encoding:
                    return self._reply(400, f'unsupported Content-Encoding {encoding}'.encode(), {})
                self._serve(body)

            def _read_body(self):
                if self.headers.get('Transfer-Encoding', '').lower() != 'chunked':
                    return self.rfile.read(int(self.headers.get('Content-Length') or 0))
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b';')[0].strip() or b'0', 16)
                    if size == 0:
                        self.rfile.readline()
                        return b''.join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()

            def _serve(self, body):
                url = urllib.parse.urlsplit(self.path)
                if url.path == '/ping':
                    return self._reply(200, b'Ok.\n', {})
                params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                status, payload, headers = endpoint.execute(params, body)
                self._reply(status, payload, headers)

            def _reply(self, status, payload, headers):
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._conn.close()

    def execute(self, params, body):
        query = params.get('query', '')
        data = b''
        if query and body:
            # An INSERT's data follows its FORMAT clause; otherwise the body continues the query.
            if _INSERT_WITH_DATA.match(query):
                data = body
            else:
                query = query + '\n' + body.decode()
        elif body:
            head, sep, rest = body.partition(b'\n')
            if sep and _INSERT_WITH_DATA.match(head.decode(errors='replace')):
                query, data = head.decode(), rest
            else:
                query = body.decode()
        settings = {k: v for k, v in params.items()
                    if k not in TRANSPORT_PARAMS and not k.startswith('param_')}
        headers = {'X-ClickHouse-Timezone': 'UTC', 'X-ClickHouse-Server-Display-Name': 'chdb',
                   'X-ClickHouse-Query-Id': params.get('query_id', '')}
        with self._lock:
            try:
                if params.get('database'):
                    self._conn.query(f"use `{params['database']}`", 'TabSeparated')
                for key, value in settings.items():
                    self._set(key, value)
                if self.log:
                    self.log.write(query.replace('\n', ' ') + '\n')
                    self.log.flush()
                insert = _INSERT_WITH_DATA.match(query)
                if insert and data:
                    spool = self._spool / 'insert.data'
                    spool.write_bytes(data)
                    target, fmt = insert.groups()
                    self._conn.query(f"insert into {target} select * from file('{spool}', {fmt})",
                                     'TabSeparated')
                    payload, fmt = b'', 'TabSeparated'
                else:
                    fmt_match = _TRAILING_FORMAT.search(query)
                    fmt = fmt_match.group(1) if fmt_match else params.get('default_format', 'TabSeparated')
                    bound = {k[len('param_'):]: v for k, v in params.items() if k.startswith('param_')}
                    result = self._conn.query(query, fmt, params=bound) if bound else self._conn.query(query, fmt)
                    payload = result.bytes() if result is not None else b''
            except Exception as ex:  # the engine's message is the server's error body
                message = str(ex)
                code = re.search(r'Code: (\d+)', message)
                headers['X-ClickHouse-Exception-Code'] = code.group(1) if code else '1000'
                return 500, message[message.find('Code: '):].encode() if code else message.encode(), headers
        headers['X-ClickHouse-Format'] = fmt
        headers['X-ClickHouse-Summary'] = json.dumps({'read_rows': '0', 'written_rows': '0'})
        return 200, payload, headers

    def _set(self, key, value):
        if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', key):
            return
        quoted = value.replace('\\', '\\\\').replace("'", "\\'")
        try:
            self._conn.query(f"set {key} = '{quoted}'", 'TabSeparated')
        except Exception:
            pass  # a setting this engine does not know (server or cluster only) is ignored


@contextlib.contextmanager
def serve(path, log=None, cluster=None):
    """Run the endpoint over engine directory `path` in a child process; yields its port."""
    args = [sys.executable, __file__, str(path), str(log or ''), cluster or '']
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f'the endpoint did not start: {line!r}')
        yield int(line)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == '__main__':
    import signal

    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # so the engine closes cleanly on terminate()
    path, log, cluster = (sys.argv[1:] + ['', ''])[:3]
    with ChdbHttpEndpoint(path, log or None, cluster or None) as endpoint:
        print(endpoint.port, flush=True)
        signal.sigwait(stop)
