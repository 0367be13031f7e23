// Bounded FIFO: pushing past max drops the oldest items, so a page that cannot
// reach the collector never grows memory or storage without a bound.
export function bounded(max, items = []) {
  const q = items.slice(-max);
  q.add = x => {
    q.push(x);
    const over = q.length - max;
    if (over > 0) q.splice(0, over);
    return over > 0 ? over : 0;
  };
  return q;
}
