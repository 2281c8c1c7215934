#!/usr/bin/env bash
# Writes a private CA and the NATS route certificate into DIR: ca.crt, ca.key, tls.crt, tls.key
# (the names of a kubernetes.io/tls secret with ca.crt, as cert-manager writes them). One
# certificate for every server: its names cover the compose hosts (nats-1..3) and the k8s
# StatefulSet pods (nats-N.nats[.NAMESPACE.svc[.cluster.local]]); it is both server and client
# certificate because each route end verifies the other (cluster.tls.verify: true).
#   deploy/nats/make-route-certs.sh DIR [NAMESPACE] [DAYS]
# EXTRA_SANS (e.g. "DNS:nats.example.com,IP:10.0.0.5") adds names.
# Keep ca.key offline; only ca.crt, tls.crt and tls.key go into the secret.
set -euo pipefail
dir=${1:?usage: make-route-certs.sh DIR [NAMESPACE] [DAYS]}
ns=${2:-nats-chat}
days=${3:-825}
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days "$days" \
  -subj "/CN=nats-chat route CA" -keyout "$dir/ca.key" -out "$dir/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
  -subj "/CN=nats-route" -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
sans="DNS:nats-1,DNS:nats-2,DNS:nats-3,DNS:nats,DNS:*.nats,DNS:*.nats.$ns.svc,DNS:*.nats.$ns.svc.cluster.local"
[[ -n ${EXTRA_SANS:-} ]] && sans+=",$EXTRA_SANS"
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -sha256 -days "$days" -out "$dir/tls.crt" -extfile <(printf '%s\n' \
    "subjectAltName=$sans" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" "basicConstraints=CA:FALSE") 2>/dev/null
rm -f "$dir/tls.csr" "$dir/ca.srl"
chmod 0644 "$dir/ca.crt" "$dir/tls.crt"
echo "wrote $dir/{ca.crt,ca.key,tls.crt,tls.key}"
