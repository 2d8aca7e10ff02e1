#!/usr/bin/env bash
# Deploys a generated service into a kind cluster of the pinned Kubernetes minor, the way a team would:
# deploy/namespace.yaml first (Pod Security "restricted" enforced), then the chart with `helm install --wait`.
# Then checks what the chart promises: ready, /healthz through a port-forward, uid 65532, a read-only root
# filesystem, and a pod that breaks "restricted" is refused by the namespace.
# Usage: deploy-kind.sh <service-dir> <local-image:tag>   (kind and helm on PATH: install-tools.mjs)
set -euo pipefail
service=$1
image=$2
here=$(cd "$(dirname "$0")" && pwd)

node_image=$(node -e 'const d = require(process.argv[1]); const i = d.canary.kindNodeImage; console.log(i.image + ":" + i.tag + "@" + i.digest)' "$here/../../data/versions.json")
name=$(node -e 'console.log(require(process.argv[1]).answers.name)' "$service/.hardened-service.json")
namespace=$(sed -n 's/^  name: //p' "$service/deploy/namespace.yaml" | head -n 1)

kind create cluster --name canary --image "$node_image" --wait 120s
kind load docker-image --name canary "$image"

kubectl apply -f "$service/deploy/namespace.yaml"
kubectl get namespace "$namespace" -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}' | grep -qx restricted

helm install "$name" "$service/chart" --namespace "$namespace" --wait --timeout 5m \
  --set image.repository="${image%:*}" --set image.tag="${image##*:}" --set image.pullPolicy=Never
kubectl --namespace "$namespace" rollout status "deployment/$name" --timeout 120s

pod=$(kubectl --namespace "$namespace" get pods -l "app.kubernetes.io/name=$name" -o jsonpath='{.items[0].metadata.name}')
# No shell in the image: Node itself reports the uid and tries to write to the root filesystem.
uid=$(kubectl --namespace "$namespace" exec "$pod" -- /nodejs/bin/node -e 'console.log(process.getuid())')
[ "$uid" = 65532 ] || { echo "pod runs as uid $uid, not 65532"; exit 1; }
if kubectl --namespace "$namespace" exec "$pod" -- /nodejs/bin/node -e 'require("fs").writeFileSync("/app/canary", "x")'; then
  echo "the root filesystem is writable"
  exit 1
fi

port=$(kubectl --namespace "$namespace" get service "$name" -o jsonpath='{.spec.ports[0].port}')
kubectl --namespace "$namespace" port-forward "service/$name" 18080:"$port" &
forward=$!
trap 'kill "$forward" 2>/dev/null || true' EXIT
for _ in $(seq 1 30); do curl -fsS http://127.0.0.1:18080/healthz && break; sleep 1; done
curl -fsS http://127.0.0.1:18080/readyz

# The namespace must refuse what "restricted" forbids.
if kubectl --namespace "$namespace" run weakened --image="$image" --restart=Never \
  --overrides='{"spec":{"containers":[{"name":"weakened","image":"'"$image"'","securityContext":{"privileged":true}}]}}'; then
  echo "the namespace admitted a privileged pod"
  exit 1
fi
echo "kind: ${name} ready in ${namespace}, uid 65532, read-only root, privileged pod refused"
