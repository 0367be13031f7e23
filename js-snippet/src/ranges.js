// Watched ranges: [[start, end], ...] in seconds.

const r3 = x => Math.round(x * 1000) / 1000;

// merge sorts ranges and joins the overlapping or touching ones, dropping
// empty and invalid ranges, so a rewatch inside one beacon interval counts once.
export function merge(ranges) {
  const out = [];
  ranges
    .filter(r => r[1] > r[0] && r[0] >= 0)
    .map(r => [r3(r[0]), r3(r[1])])
    .sort((a, b) => a[0] - b[0])
    .forEach(r => {
      const l = out[out.length - 1];
      if (l && r[0] <= l[1]) l[1] = Math.max(l[1], r[1]);
      else if (r[1] > r[0]) out.push(r);
    });
  return out;
}

export { r3 };
