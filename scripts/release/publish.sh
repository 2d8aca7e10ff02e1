#!/usr/bin/env bash
# Publishes the packed generator to npm (release.yml's publish job). Usage: publish.sh <tarball> [npm publish flags]
#
# npm trusted publishing can only be configured on a package that exists, so a name's first publish needs a
# token: NPM_BOOTSTRAP_TOKEN (the `npm` environment's secret NPM_TOKEN), used for that one publish only.
# Once the package exists, publishes go through trusted publishing (OIDC) and this refuses to run while the
# token is still set. CONTRIBUTING.md, "The first release", walks through both.
set -euo pipefail
tarball=$1
shift

manifest() { tar -xOzf "$tarball" package/package.json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const v=JSON.parse(s)$1;console.log(v??'')})"; }
name=$(manifest '.name')

# npm rejects a provenance publish (E422) unless repository.url names the repository the statement names:
# ${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}. A "git+" prefix and a ".git" suffix are accepted.
repository=$(manifest '.repository?.url')
expected="${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}"
normalized=${repository#git+}
normalized=${normalized%.git}
if [ "$normalized" != "$expected" ]; then
  echo "package.json repository.url is \"${repository}\": npm rejects a provenance publish from ${expected} unless it names that repository (npm pkg set repository.url=git+${expected}.git)" >&2
  exit 1
fi

# Anonymous: reads need no credential, and setup-node's $RUNNER_TEMP/.npmrc names ${NODE_AUTH_TOKEN}, which npm
# would send unexpanded while it is unset (actions/setup-node@820762786026740c76f36085b0efc47a31fe5020:src/authutil.ts).
if npm view "$name" name --userconfig=/dev/null > /dev/null 2> "${RUNNER_TEMP:-/tmp}/npm-view.err"; then
  exists=true
elif grep -q 'code E404' "${RUNNER_TEMP:-/tmp}/npm-view.err"; then
  exists=false
else
  echo "cannot look up ${name} on the npm registry: $(grep -m1 'code E' "${RUNNER_TEMP:-/tmp}/npm-view.err" || echo 'no answer')" >&2
  exit 1
fi

if [ "$exists" = false ] && [ -z "${NPM_BOOTSTRAP_TOKEN:-}" ]; then
  echo "${name} is not on npm yet and trusted publishing can only be configured for a package that exists: set the npm environment's secret NPM_TOKEN for this first publish (CONTRIBUTING.md: The first release)" >&2
  exit 1
fi
if [ "$exists" = true ] && [ -n "${NPM_BOOTSTRAP_TOKEN:-}" ]; then
  echo "${name} is on npm already: it publishes through trusted publishing now; delete the npm environment's secret NPM_TOKEN and revoke that token (CONTRIBUTING.md: The first release)" >&2
  exit 1
fi

if [ "$exists" = false ]; then
  # setup-node's registry-url wrote $RUNNER_TEMP/.npmrc, which reads NODE_AUTH_TOKEN (NPM_CONFIG_USERCONFIG).
  export NODE_AUTH_TOKEN="$NPM_BOOTSTRAP_TOKEN"
  echo "::notice::first publish of ${name} with the bootstrap token; now configure trusted publishing on npmjs.com and delete the secret NPM_TOKEN (CONTRIBUTING.md: The first release)"
fi
npm publish "$tarball" --access public "$@"
