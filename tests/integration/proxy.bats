#!/usr/bin/env bats
# An https session through a CONNECT proxy named by HTTPS_PROXY: the proxy
# is a small python3 server on 127.0.0.1 that logs each CONNECT line and
# relays bytes; the model is the TLS server from tls_helpers.bash, also on
# 127.0.0.1.

load helpers
load tls_helpers

setup() {
	command -v openssl > /dev/null || skip "the openssl command is not installed"
	setup_workspace
	make_certificates
}

teardown() {
	local pid
	for pid in "${TLS_PID:-}" "${PROXY_PID:-}"; do
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	teardown_workspace
}

# start_proxy: a CONNECT-only proxy that tunnels to 127.0.0.0/8 alone;
# sets PROXY_PID and PROXY_URL. CONNECT lines go to $TOP/proxy.log.
start_proxy() {
	cat > "$TOP/proxy.py" <<'PY'
import ipaddress, os, select, socket, socketserver, sys

port_file, log = sys.argv[1:3]

class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline(4096).decode("latin-1").rstrip("\r\n")
        with open(log, "a") as f:
            f.write(line + "\n")
        while self.rfile.readline(4096) not in (b"\r\n", b"\n", b""):
            pass
        parts = line.split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 CONNECT only\r\n\r\n")
            return
        host, _, port = parts[1].rpartition(":")
        if not ipaddress.ip_address(host).is_loopback:
            self.wfile.write(b"HTTP/1.1 403 loopback only\r\n\r\n")
            return
        upstream = socket.create_connection((host, int(port)))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        ends = [self.connection, upstream]
        while True:
            ready, _, _ = select.select(ends, [], [])
            for src in ready:
                data = src.recv(65536)
                if not data:
                    upstream.close()
                    return
                (upstream if src is self.connection else self.connection).sendall(data)

class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True

server = Server(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
PY
	: > "$TOP/proxy.log"
	python3 "$TOP/proxy.py" "$TOP/proxy_port" "$TOP/proxy.log" \
		2> "$TOP/proxy_server.log" &
	PROXY_PID=$!
	wait_port "$TOP/proxy_port" "$TOP/proxy_server.log"
	PROXY_URL=http://127.0.0.1:$(cat "$TOP/proxy_port")
}

# run_proxy_session NO_PROXY_VALUE
run_proxy_session() {
	SSL_CERT_FILE=$TOP/pki/ca.pem OPENAI_API_KEY=sk-test-proxy-0123456789 \
		HTTPS_PROXY=$PROXY_URL NO_PROXY=$1 \
		run env -u https_proxy -u no_proxy -u http_proxy -u HTTP_PROXY \
		timeout 60 "$COWORKER" exec -C "$WS" --audit "$TOP/audit.jsonl" \
		--base-url "$BASE_URL" --model gpt-4o "Say hello"
}

@test "https session goes through the proxy when NO_PROXY is empty" {
	response_text "$TOP/answer.json" "Hello through the proxy."
	start_tls_server "$TOP/answer.json"
	start_proxy

	run_proxy_session ""
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Hello through the proxy."* ]]
	grep -qx "CONNECT 127.0.0.1:$(cat "$TOP/tls_port") HTTP/1.1" "$TOP/proxy.log"
	grep -q '^/v1/chat/completions ' "$TOP/requests"
	audit_lines "$TOP/audit.jsonl" session_start proxy "$PROXY_URL" | grep -q .
	grep -qF "127.0.0.1:$(cat "$TOP/tls_port") via 127.0.0.1:$(cat "$TOP/proxy_port")" \
		"$TOP/audit.jsonl"
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}

@test "NO_PROXY naming the model host bypasses the proxy" {
	response_text "$TOP/answer.json" "Hello directly."
	start_tls_server "$TOP/answer.json"
	start_proxy

	run_proxy_session "example.invalid, 127.0.0.1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Hello directly."* ]]
	[ ! -s "$TOP/proxy.log" ]
	# helpers' audit_lines compares str(value): a JSON null reads "None".
	audit_lines "$TOP/audit.jsonl" session_start proxy None | grep -q .
}

@test "without NO_PROXY a loopback model bypasses the proxy" {
	response_text "$TOP/answer.json" "Hello over loopback."
	start_tls_server "$TOP/answer.json"
	start_proxy

	SSL_CERT_FILE=$TOP/pki/ca.pem OPENAI_API_KEY=sk-test-proxy-0123456789 \
		HTTPS_PROXY=$PROXY_URL \
		run env -u https_proxy -u no_proxy -u NO_PROXY \
		timeout 60 "$COWORKER" exec -C "$WS" --audit "$TOP/audit.jsonl" \
		--base-url "$BASE_URL" --model gpt-4o "Say hello"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Hello over loopback."* ]]
	[ ! -s "$TOP/proxy.log" ]
}

@test "a proxy URL with credentials is rejected" {
	response_text "$TOP/answer.json" "unused"
	start_tls_server "$TOP/answer.json"
	PROXY_URL=http://user:secret@127.0.0.1:9
	run_proxy_session ""
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"credentials in the proxy URL are not supported"* ]]
	[[ "$output" != *secret* ]]
	[ ! -s "$TOP/requests" ]
}
