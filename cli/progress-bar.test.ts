import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Progress } from '../client/index.js';
import {
  etaSeconds, fitToWidth, formatBar, formatDuration, formatEta, formatOutcome, formatPercentage, formatProgressLine, progressRate,
} from './progress-bar.js';

function progress(fields: Partial<Progress>): Progress {
  return { current: null, total: null, percentage: null, phase: null, message: null, ...fields };
}

test('the bar fills one # per 5 %, rounding down, and stays 20 wide whatever the percentage', () => {
  assert.equal(formatBar(45), '[#########-----------]');
  assert.equal(formatBar(0), '[--------------------]');
  assert.equal(formatBar(99.9), '[###################-]', 'full only at 100 %');
  assert.equal(formatBar(100), '[####################]');
  assert.equal(formatBar(null), '[--------------------]');
  assert.equal(formatBar(250), '[####################]');
  assert.equal(formatBar(-3), '[--------------------]');
});

test('the percentage is always 7 characters wide, so the text after it does not jump', () => {
  assert.equal(formatPercentage(45), ' 45.0 %');
  assert.equal(formatPercentage(100), '100.0 %');
  assert.equal(formatPercentage(3.333), '  3.3 %');
  assert.equal(formatPercentage(null), '    ? %');
});

test('the seed\'s line: bar, percentage, phase, message, rate and ETA, two spaces apart', () => {
  const line = formatProgressLine({
    progress: progress({ current: 450, total: 1000, percentage: 45, phase: 'DATA_PROCESSING', message: 'Processing customer records' }),
    label: null,
    ratePerSecond: 12.3,
  });
  assert.equal(line, '[#########-----------]  45.0 %  DATA_PROCESSING  Processing customer records  12.3/s  ETA 45s');
});

test('parts that are unknown are left out: no phase, no message, no rate (so no ETA), no total', () => {
  assert.equal(formatProgressLine({ progress: progress({ current: 2, total: 5, percentage: 40, message: 'step 3 of 5' }), label: null, ratePerSecond: null }),
    '[########------------]  40.0 %  step 3 of 5');
  assert.equal(formatProgressLine({ progress: progress({ current: 7 }), label: null, ratePerSecond: 2 }), '[--------------------]     ? %  2.0/s',
    'a rate but no total: no ETA');
  assert.equal(formatProgressLine({ progress: null, label: 'PENDING', ratePerSecond: null }), '[--------------------]     ? %  PENDING');
});

test('a line too wide for the terminal gives up its message first, keeping rate and ETA', () => {
  const line = { progress: progress({ current: 450, total: 1000, percentage: 45, phase: 'DATA_PROCESSING', message: 'Processing customer records' }), label: null, ratePerSecond: 12.3 };
  const cut = formatProgressLine(line, 74);
  assert.equal(cut, '[#########-----------]  45.0 %  DATA_PROCESSING  Process…  12.3/s  ETA 45s');
  assert.equal(cut.length, 74);
  assert.equal(formatProgressLine(line, 64), '[#########-----------]  45.0 %  DATA_PROCESSING  12.3/s  ETA 45s', 'no room for a useful part: no message');
});

test('the rate counts progress.current per second since the first report, once half a second passed', () => {
  assert.equal(progressRate({ current: 10, atMs: 1_000 }, { current: 60, atMs: 5_000 }), 12.5);
  assert.equal(progressRate({ current: 10, atMs: 1_000 }, { current: 12, atMs: 1_014 }), null, 'too short a time to mean anything');
  assert.equal(progressRate({ current: 10, atMs: 1_000 }, { current: 10, atMs: 9_000 }), null, 'no movement: no rate, rather than an endless ETA');
  assert.equal(progressRate({ current: 40, atMs: 1_000 }, { current: 0, atMs: 9_000 }), null, 'gone backwards (a retry starting over)');
});

test('the ETA is what is left at that rate', () => {
  assert.equal(etaSeconds(progress({ current: 450, total: 1000 }), 50), 11);
  assert.equal(etaSeconds(progress({ current: 1000, total: 1000 }), 50), 0);
  assert.equal(etaSeconds(progress({ current: 450 }), 50), null);
  assert.equal(etaSeconds(progress({ current: 450, total: 1000 }), null), null);
});

test('ETAs and durations in whole units a person reads at a glance', () => {
  assert.equal(formatEta(3.2), '4s', 'rounded up');
  assert.equal(formatEta(0), '0s');
  assert.equal(formatEta(65), '1m05s');
  assert.equal(formatEta(7_380), '2h03m');
  assert.equal(formatDuration(1.23), '1.2 s');
  assert.equal(formatDuration(0.004), '0.0 s');
  assert.equal(formatDuration(125), '2m 05s');
  assert.equal(formatDuration(3_720), '1h 02m');
});

test('the outcome line: COMPLETED in, FAILED: detail, CANCELLED: reason', () => {
  assert.equal(formatOutcome({ status: 'COMPLETED', durationSeconds: 1.2, warningCodes: [] }), 'COMPLETED in 1.2 s');
  assert.equal(formatOutcome({ status: 'COMPLETED', durationSeconds: null, warningCodes: [] }), 'COMPLETED');
  assert.equal(formatOutcome({ status: 'COMPLETED_WITH_ERRORS', durationSeconds: 0.3, warningCodes: ['MISSING_DATA'] }),
    'COMPLETED_WITH_ERRORS in 0.3 s (warnings: MISSING_DATA)');
  assert.equal(formatOutcome({ status: 'FAILED', detail: 'External service temporarily unavailable' }), 'FAILED: External service temporarily unavailable');
  assert.equal(formatOutcome({ status: 'FAILED', detail: null }), 'FAILED');
  assert.equal(formatOutcome({ status: 'CANCELLED', reason: 'no longer needed' }), 'CANCELLED: no longer needed');
  assert.equal(formatOutcome({ status: 'CANCELLED', reason: null }), 'CANCELLED');
});

test('fitToWidth keeps a line one column short of the terminal, so that redrawing it never wraps', () => {
  assert.equal(fitToWidth('abcdef', 80), 'abcdef');
  assert.equal(fitToWidth('abcdef', 7), 'abcdef');
  assert.equal(fitToWidth('abcdefgh', 6), 'abcd…');
});
