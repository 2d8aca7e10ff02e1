#!/usr/bin/env node
// Re-resolves the emitted services' dependency trees into data/lockfiles/ (run through
// `npm run refresh-lockfiles` after changing a pin in templates/app/package.json.hbs). Uses the registry.
// One tree per framework and Node line, resolved with every optional client (database drivers, Redis) as a
// dependency: each service's lockfile keeps the part its package.json reaches (generators/features/app-lockfile.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAnswers } from '../dist/lib/answers.js';
import { packageRoot, templatesRoot } from '../dist/core/package-root.js';
import { createTemplateEngine } from '../dist/core/render/handlebars-env.js';
import { templateContext } from '../dist/lib/render-service.js';
import { lockDataPath } from '../dist/generators/features/app-lockfile.js';
import { versions } from '../dist/core/versions.js';

const engine = await createTemplateEngine([]);
const template = readFileSync(join(templatesRoot, 'app', 'package.json.hbs'), 'utf8');

for (const framework of ['fastify', 'express']) {
  for (const { major } of versions.node.lines) {
    const answers = await resolveAnswers({ given: { framework, nodeVersion: major }, context: { targetDir: 'lockfile' } });
    const dir = mkdtempSync(join(tmpdir(), 'chs-lock-'));
    const context = templateContext(answers);
    const everyClient = { ...context, backing: { ...context.backing, postgres: true, mysql: true, redis: true } };
    writeFileSync(join(dir, 'package.json'), await engine.render(template, everyClient, 'package.json.hbs'));
    // This machine's Node may be older than the service's engines; resolution does not depend on it.
    execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--engine-strict=false', '--omit-lockfile-registry-resolved'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    const { packages } = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
    delete packages[''];
    const out = lockDataPath(answers);
    writeFileSync(out, `${JSON.stringify({ $comment: 'Resolved by npm run refresh-lockfiles; do not edit.', packages }, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    console.log(`${out.slice(packageRoot.length + 1)}: ${Object.keys(packages).length} packages`);
  }
}
