// The worker's half of collect.js: imported by the test worker modules before the
// library's worker bundle, it forwards the worker's console.error/console.warn calls and
// uncaught errors to the page over a BroadcastChannel.
const channel = new BroadcastChannel('localrec-e2e-problems');
const text = (args) =>
  args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack ?? ''}` : String(a))).join(' ');
for (const level of ['error', 'warn']) {
  const original = console[level];
  console[level] = (...args) => {
    channel.postMessage(`[worker ${level}] ${text(args)}`);
    original.apply(console, args);
  };
}
self.addEventListener('error', (e) => channel.postMessage(`[worker uncaught] ${e.message}`));
self.addEventListener('unhandledrejection', (e) =>
  channel.postMessage(`[worker unhandledrejection] ${text([e.reason])}`),
);
