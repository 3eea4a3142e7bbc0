// The package says "license": "Apache-2.0"; the LICENSE file beside it must be that
// license, the whole standard text, with the project's copyright line filled in.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const COPYRIGHT = 'Copyright 2026 The localrec authors';
/** MD5 of https://www.apache.org/licenses/LICENSE-2.0.txt (LF line ends). */
const APACHE_2_0_MD5 = '3b83ef96387f14655fc854ddc3c6bd57';

describe('LICENSE', () => {
  it('is the full Apache-2.0 text that package.json names, with our copyright line', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.license).toBe('Apache-2.0');
    const text = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(text).not.toMatch(/\r/);
    expect(text).toContain(`   ${COPYRIGHT}\n`);
    // The appendix's boilerplate is the one place the standard text is meant to be
    // filled in; put its template back and the file is byte-for-byte the standard.
    const template = text.replace(COPYRIGHT, 'Copyright [yyyy] [name of copyright owner]');
    expect(createHash('md5').update(template).digest('hex')).toBe(APACHE_2_0_MD5);
  });
});
