/**
 * Every relative link in README.md and docs/*.md resolves: the file exists, and a `#anchor`
 * matches a heading of the target (GitHub's slugs). External links (http, mailto) are not checked.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, anchors, links, markdownFiles, readDoc, slug } from './docs-markdown.js';

describe('docs links', () => {
  it('GitHub-style slugs', () => {
    expect(slug('Keys (prefix `REDIS_KEY_PREFIX`, default `trt`)')).toBe('keys-prefix-redis_key_prefix-default-trt');
    expect(slug('Roles: `npm start -- --role receiver|worker|all`')).toBe('roles-npm-start------role-receiverworkerall');
    expect(slug('"Try again" only when it is true')).toBe('try-again-only-when-it-is-true');
    expect([...anchors('# A\n## Tests\n```\n# not a heading\n```\n## Tests\n')]).toEqual(['a', 'tests', 'tests-1']);
  });

  it('every relative link and anchor in README.md and docs/*.md resolves', () => {
    const files = markdownFiles();
    expect(files.length).toBeGreaterThan(10);
    const anchorsOf = new Map<string, Set<string>>();
    const anchorsFor = (file: string) => {
      if (!anchorsOf.has(file)) anchorsOf.set(file, anchors(readDoc(file)));
      return anchorsOf.get(file)!;
    };
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const { line, target } of links(readDoc(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        checked++;
        const [path = '', anchor] = target.split('#', 2);
        const resolved = path ? relative(ROOT, normalize(join(ROOT, dirname(file), decodeURIComponent(path)))) : file;
        const where = `${file}:${line}: ${target}`;
        if (resolved.startsWith('..') || !existsSync(join(ROOT, resolved))) {
          broken.push(`${where} (no such file)`);
          continue;
        }
        if (anchor === undefined) continue;
        if (!resolved.endsWith('.md') || statSync(join(ROOT, resolved)).isDirectory()) {
          broken.push(`${where} (an anchor into a file that is not Markdown)`);
        } else if (!anchorsFor(resolved).has(decodeURIComponent(anchor))) {
          broken.push(`${where} (no heading #${anchor} in ${resolved})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(broken).toEqual([]);
  });

  it('the README stays a front page', () => {
    expect(readDoc('README.md').split('\n').length).toBeLessThanOrEqual(220);
  });
});
