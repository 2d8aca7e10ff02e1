#!/usr/bin/env node
// Rewrites the option table in README.md from the options model (run through `npm run docs`, which runs it with tsx from the sources).
import { readFileSync, writeFileSync } from 'node:fs';
import { OPTIONS_END, OPTIONS_START, optionsMarkdownTable } from '../lib/cli/options-table.ts';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = readme.indexOf(OPTIONS_START);
const end = readme.indexOf(OPTIONS_END);
if (start < 0 || end < start) throw new Error('README.md has no option table markers');
writeFileSync(path, `${readme.slice(0, start + OPTIONS_START.length)}\n${optionsMarkdownTable()}\n${readme.slice(end)}`);
