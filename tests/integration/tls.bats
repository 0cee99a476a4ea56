#!/usr/bin/env bats
# https end to end: a test CA made with the openssl tool, a TLS server on
# 127.0.0.1 that answers Chat Completions, and a whole session whose worker
# checks the server against the CA that the supervisor hands it as an fd.

load helpers

setup() {
	command -v openssl > /dev/null || skip "the openssl command is not installed"
	setup_workspace
	make_certificates
}

teardown() {
	if [ -n "${TLS_PID:-}" ]; then
		kill -TERM "$TLS_PID" 2>/dev/null || true
		wait "$TLS_PID" 2>/dev/null || true
	fi
	teardown_workspace
}

# make_certificates: a CA and a server certificate for 127.0.0.1 in $TOP/pki,
# plus a second CA that signed nothing.
make_certificates() {
	local pki=$TOP/pki
	mkdir -p "$pki"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=coworker test CA" \
		-keyout "$pki/ca.key" -out "$pki/ca.pem" 2> "$pki/log"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
		-keyout "$pki/other.key" -out "$pki/other.pem" 2>> "$pki/log"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$pki/server.key" -out "$pki/server.csr" 2>> "$pki/log"
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' \
		> "$pki/server.ext"
	openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" \
		-CAkey "$pki/ca.key" -CAcreateserial -days 2 \
		-extfile "$pki/server.ext" -out "$pki/server.pem" 2>> "$pki/log"
}

# start_tls_server RESPONSE: serve RESPONSE to every POST, over TLS on
# 127.0.0.1; sets TLS_PID and BASE_URL. Requests go to $TOP/requests.
start_tls_server() {
	cat > "$TOP/tls_server.py" <<'PY'
import http.server, ssl, sys

pki, response, port_file, log = sys.argv[1:5]
body = open(response, "rb").read()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = self.rfile.read(length)
        with open(log, "ab") as f:
            f.write(self.path.encode() + b" " + request + b"\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(pki + "/server.pem", pki + "/server.key")
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
PY
	python3 "$TOP/tls_server.py" "$TOP/pki" "$1" "$TOP/tls_port" \
		"$TOP/requests" 2> "$TOP/tls_server.log" &
	TLS_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$TOP/tls_port" ] && break
		sleep 0.05
	done
	[ -s "$TOP/tls_port" ] || { cat "$TOP/tls_server.log" >&2; return 1; }
	BASE_URL=https://127.0.0.1:$(cat "$TOP/tls_port")/v1
}

run_tls_session() {
	SSL_CERT_FILE=$1 OPENAI_API_KEY=sk-test-tls-0123456789 run timeout 60 \
		"$COWORKER" exec -C "$WS" --audit "$TOP/audit.jsonl" \
		--base-url "$BASE_URL" --model gpt-4o "Say hello"
}

@test "https session with a test CA" {
	response_text "$TOP/answer.json" "Hello over TLS."
	start_tls_server "$TOP/answer.json"

	run_tls_session "$TOP/pki/ca.pem"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Hello over TLS."* ]]
	grep -q '^/v1/chat/completions ' "$TOP/requests"
	audit_lines "$TOP/audit.jsonl" worker_exit | grep -q '"exit status 0"'
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}

@test "https session with the wrong CA fails" {
	response_text "$TOP/answer.json" "Hello over TLS."
	start_tls_server "$TOP/answer.json"

	run_tls_session "$TOP/pki/other.pem"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" != *"Hello over TLS."* ]]
	[[ "$output" == *"certificate"* ]]
	# The worker failed cleanly: no seccomp kill on the error path.
	! audit_lines "$TOP/audit.jsonl" worker_exit | grep -q SIGSYS
	[ ! -s "$TOP/requests" ]
}
