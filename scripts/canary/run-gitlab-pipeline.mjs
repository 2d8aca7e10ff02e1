#!/usr/bin/env node
// Runs a generated service's .gitlab-ci.yml as GitLab would, on this machine's Docker: gitlab-ci-local (the
// version in data/versions.json canary.gitlabCiLocal) reads the emitted file itself, so every job runs in
// the image, with the variables, script and artifacts the file gives it: the scanners are invoked exactly
// as the emitted pipeline invokes them, nothing is retyped here.
// Left out: `check`, which installs the generator version recorded in the service from npm (the canary runs
// `check` from the build under test instead), and jobs whose rules exclude a merge-request-like pipeline on a
// feature branch (publishing, the scheduled upgrade and rescan).
// Usage: node scripts/canary/run-gitlab-pipeline.mjs <service-dir>
import { execFileSync, spawnSync } from 'node:child_process';
import { readData } from './data.mjs';

const [service] = process.argv.slice(2);
if (!service) {
  console.error('usage: run-gitlab-pipeline.mjs <service-dir>');
  process.exit(2);
}

const git = (...args) => execFileSync('git', ['-c', 'user.name=canary', '-c', 'user.email=canary@noreply.invalid', ...args], { cwd: service, stdio: 'inherit' });
git('init', '-q', '-b', 'canary');
git('add', '--all');
git('commit', '-q', '-m', 'generated service');

const { versions } = readData();
const runner = ['--yes', `gitlab-ci-local@${versions.canary.gitlabCiLocal.version}`];
const common = ['--variable', 'CI_DEFAULT_BRANCH=main', '--fetch-includes'];

const listed = JSON.parse(execFileSync('npx', [...runner, ...common, '--list-json'], { cwd: service, encoding: 'utf8' }));
const jobs = listed.filter((job) => job.when !== 'never' && job.name !== 'check').map((job) => job.name);
console.log(`Running ${jobs.length} jobs of .gitlab-ci.yml: ${jobs.join(', ')}`);

const run = spawnSync('npx', [...runner, ...common, '--privileged', ...jobs], { cwd: service, stdio: 'inherit' });
process.exit(run.status ?? 1);
