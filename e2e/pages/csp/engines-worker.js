// The library's worker (lib/) with the problem collector of e2e/engines/ in front.
import '/e2e/engines/collect-worker.js';
import './lib/localrec.worker.min.js';
