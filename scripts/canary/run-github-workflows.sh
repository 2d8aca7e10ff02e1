#!/usr/bin/env bash
# Runs a generated service's own GitHub workflows for real: pushes the service as the `main` branch of a
# scratch test repository (CANARY_REPOSITORY, owner/name) and waits for every workflow run of that commit.
# GH_TOKEN must be allowed to push workflow files there (a GitHub App installed on that repository only, with
# contents and workflows write, actions read). Every job must succeed, except `check` while the generator
# version it pins is not on npm yet (a release candidate): then it must fail with its documented one line.
# Usage: run-github-workflows.sh <service-dir>
set -euo pipefail
service=$1
: "${CANARY_REPOSITORY:?set CANARY_REPOSITORY (owner/name of the scratch test repository)}"
: "${GH_TOKEN:?set GH_TOKEN}"

cd "$service"
git init -q -b main
git add --all
git -c user.name=create-hardened-service-canary -c user.email=canary@noreply.invalid commit -q -m "Canary: generated service"
sha=$(git rev-parse HEAD)
git push -q --force "https://x-access-token:${GH_TOKEN}@github.com/${CANARY_REPOSITORY}.git" HEAD:refs/heads/main

version=$(node -e 'console.log(require("./.hardened-service.json").generator.version)')
published=true
npm view "create-hardened-service@${version}" version >/dev/null 2>&1 || published=false

# Runs appear a little after the push; then wait until none is queued or in progress (at most 40 minutes).
# The jq prints two lines: how many runs are not completed yet, and how many there are.
for _ in $(seq 1 240); do
  runs=$(gh run list --repo "$CANARY_REPOSITORY" --commit "$sha" --json databaseId,status --jq '([.[] | select(.status != "completed")] | length), length' 2>/dev/null || echo "1 0")
  read -r -d '' pending total <<<"$runs" || true
  if [ "${total:-0}" -gt 0 ] && [ "${pending:-1}" -eq 0 ]; then break; fi
  sleep 10
done

failed=0
for run in $(gh run list --repo "$CANARY_REPOSITORY" --commit "$sha" --json databaseId --jq '.[].databaseId'); do
  while IFS=$'\t' read -r job conclusion; do
    echo "${conclusion}: ${job}"
    [ "$conclusion" = success ] || [ "$conclusion" = skipped ] && continue
    # The emitted ci.yml's check job, as GitHub displays it: run by ci.yml itself, or called by container.yml's
    # job `ci` (test/workflow-graph.test.ts holds these names to the emitted workflows).
    if [ "$published" = false ] && [[ "$job" == "Hardened-service conformance" || "$job" == *" / Hardened-service conformance" ]]; then
      gh run view "$run" --repo "$CANARY_REPOSITORY" --log-failed | grep -q "cannot install create-hardened-service@${version}" && continue
    fi
    failed=1
  done < <(gh run view "$run" --repo "$CANARY_REPOSITORY" --json jobs --jq '.jobs[] | [.name, .conclusion] | @tsv')
done
exit "$failed"
