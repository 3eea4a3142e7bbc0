// The demo uses the BUILT library, loaded from ./lib/ exactly as a site would.
import type * as LocalRecModule from '../src/index';

const LIB = './lib/localrec.js';
const { probeBackends, version } = (await import(/* @vite-ignore */ LIB)) as typeof LocalRecModule;

const $ = <T extends Element>(selector: string) => document.querySelector(selector) as T;
$('#version').textContent = version;

const status = $<HTMLParagraphElement>('#backends-status');
try {
  const report = await probeBackends();
  const body = $<HTMLTableElement>('#backends').tBodies[0];
  for (const b of report.backends) {
    const row = body.insertRow();
    const notes = [
      b.software ? 'software (CPU emulation)' : '',
      b.info ? JSON.stringify(b.info) : '',
      b.error ?? '',
    ]
      .filter(Boolean)
      .join(' — ');
    for (const text of [b.name, b.ok ? 'yes' : 'no', String(b.initMs ?? ''), notes]) {
      row.insertCell().textContent = text;
    }
  }
  $<HTMLTableElement>('#backends').hidden = false;
  status.textContent = `${report.backends.filter((b) => b.ok).length} of ${report.backends.length} backends work here.`;
} catch (error) {
  status.textContent = `Probe failed: ${error instanceof Error ? error.message : String(error)}`;
}
