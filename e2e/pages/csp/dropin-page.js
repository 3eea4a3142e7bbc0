// Setup of the CSP pages: an external file because the policy allows no inline script.
// Records CSP violations, then the documented stub with queued calls: a planted pattern
// (in every session containing i5, i17 follows) that a tiny GRU learns in a few epochs.
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.cspViolations.push({
    directive: e.violatedDirective,
    blocked: e.blockedURI,
    sample: e.sample,
  });
});

window.LocalRec = window.LocalRec || {
  q: [],
  push: function (c) {
    this.q.push([Date.now(), c]);
  },
};
(() => {
  const events = [];
  let t = Date.now() - 1e8;
  for (let s = 0; s < 40; s++) {
    for (let j = 0; j < 5; j++) {
      const x = `i${(s * 7 + j * 3) % 20}`;
      events.push({ itemId: x, type: 'view', sessionId: `s${s}`, timestamp: t++ });
      if (x === 'i5')
        events.push({ itemId: 'i17', type: 'view', sessionId: `s${s}`, timestamp: t++ });
    }
  }
  LocalRec.push(['trackMany', events]);
})();
