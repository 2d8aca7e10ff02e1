import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLogger } from './helpers.ts';

describe('logging', () => {
  it('writes JSON with a level label, a UTC ISO time and the service name', () => {
    const { logger, lines } = memoryLogger('info');
    logger.info({ answer: 42 }, 'hello');
    logger.debug('hidden at info');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.equal(line.level, 'info');
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof line.service, 'string');
    assert.equal(line.msg, 'hello');
  });

  it('redacts authorization and cookie headers', () => {
    const { logger, raw } = memoryLogger('info');
    logger.info({ req: { headers: { authorization: 'Bearer t0k3n', cookie: 'sid=c00k1e', accept: '*/*' } } }, 'incoming');
    assert.equal(raw.length, 1);
    assert.doesNotMatch(raw[0]!, /t0k3n|c00k1e/);
    assert.match(raw[0]!, /\[redacted\]/);
    assert.match(raw[0]!, /\*\/\*/);
  });
});
