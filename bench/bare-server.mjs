// The reference: node:http doing the same route work as the emitted service (bench/route-work.mjs) and
// nothing else: no security headers, rate limit, logging or request ids.
import { createServer } from 'node:http';
import { answer, serve } from './route-work.mjs';

serve(createServer((req, res) => answer(new URL(req.url, 'http://localhost'), res)));
