// Error collection inside the page, for engines whose driver reports no console or page
// errors (classic WebDriver: WebKitGTK). Loaded first by every page of e2e/browsers/:
// console.error and console.warn calls, uncaught errors, unhandled rejections and CSP
// violations land in window.__lrProblems, and so does whatever the worker reports over
// the BroadcastChannel of collect-worker.js.
(() => {
  const problems = [];
  window.__lrProblems = problems;
  const text = (args) =>
    args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack ?? ''}` : String(a))).join(' ');
  for (const level of ['error', 'warn']) {
    const original = console[level];
    console[level] = (...args) => {
      problems.push(`[page ${level}] ${text(args)}`);
      original.apply(console, args);
    };
  }
  window.addEventListener('error', (e) => problems.push(`[page uncaught] ${e.message}`));
  window.addEventListener('unhandledrejection', (e) =>
    problems.push(`[page unhandledrejection] ${text([e.reason])}`),
  );
  document.addEventListener('securitypolicyviolation', (e) =>
    problems.push(`[page csp] ${e.violatedDirective} ${e.blockedURI}`),
  );
  new BroadcastChannel('localrec-e2e-problems').onmessage = (e) => problems.push(e.data);
})();
