# Shared by the TLS and proxy tests: a test CA and a TLS model server on
# 127.0.0.1 that answers every POST with one recorded-format response.

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

# wait_port FILE LOG: wait for a server to write its port to FILE.
wait_port() {
	for _ in $(seq 1 100); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	cat "$2" >&2
	return 1
}

# start_tls_server RESPONSE: serve RESPONSE to every POST, over TLS on
# 127.0.0.1; sets TLS_PID and BASE_URL. Requests go to $TOP/requests.
start_tls_server() {
	cat > "$TOP/tls_server.py" <<'PY'
import http.server, os, ssl, sys

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
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
PY
	python3 "$TOP/tls_server.py" "$TOP/pki" "$1" "$TOP/tls_port" \
		"$TOP/requests" 2> "$TOP/tls_server.log" &
	TLS_PID=$!
	wait_port "$TOP/tls_port" "$TOP/tls_server.log"
	BASE_URL=https://127.0.0.1:$(cat "$TOP/tls_port")/v1
}
