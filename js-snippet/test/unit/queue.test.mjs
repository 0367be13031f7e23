import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bounded } from '../../src/queue.js';

test('bounded queue drops the oldest past its bound and reports how many', () => {
  const q = bounded(3);
  assert.equal(q.add(1), 0);
  q.add(2); q.add(3);
  assert.equal(q.add(4), 1);
  assert.deepEqual([...q], [2, 3, 4]);
  assert.deepEqual(q.splice(0), [2, 3, 4]);
  assert.equal(q.length, 0);
  q.add(5);
  assert.deepEqual([...q], [5]);
});

test('bounded queue restored from storage keeps only the newest max items', () => {
  const q = bounded(2, [1, 2, 3, 4]);
  assert.deepEqual([...q], [3, 4]);
  for (let i = 0; i < 1000; i++) q.add(i);
  assert.equal(q.length, 2);
});
