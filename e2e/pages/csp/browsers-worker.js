// The library's worker (lib/) with the problem collector of e2e/browsers/ in front.
import '/e2e/browsers/collect-worker.js';
import './lib/localrec.worker.min.js';
