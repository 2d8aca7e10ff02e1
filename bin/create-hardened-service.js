#!/usr/bin/env node
// Thin shim: all logic lives in the bundled CLI (dist/cli.js, built by scripts/build.mjs).
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
