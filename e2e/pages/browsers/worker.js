// The library's worker with the problem collector in front (see collect-worker.js).
import './collect-worker.js';
import '/dist/localrec.worker.js';
