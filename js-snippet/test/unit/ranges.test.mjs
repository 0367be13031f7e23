import { test } from 'node:test';
import assert from 'node:assert/strict';
import { merge } from '../../src/ranges.js';

test('merge joins overlapping and touching ranges and drops empty ones', () => {
  const f = (inp, want) => assert.deepEqual(merge(inp), want, JSON.stringify(inp));
  f([], []);
  f([[0, 5]], [[0, 5]]);
  f([[5, 10], [0, 5]], [[0, 10]]);                 // touching, out of order
  f([[0, 4], [2, 6], [10, 12], [11, 11.5]], [[0, 6], [10, 12]]);
  f([[3, 3], [4, 2], [-1, 2]], []);                // empty, reversed, negative
  f([[0, 1.00049], [1.0004, 2]], [[0, 2]]);         // rounded to ms first
  f([[12, 15], [0, 4], [2, 6]], [[0, 6], [12, 15]]); // rewatch inside one beacon
});
