/**
 * Crisis lines per country (safety_protocol.json `resources`): for every configured country its
 * lines, then the generic ones, in the real crisis response, check-in and `help`; an unknown or
 * missing country leaves those texts exactly as configured; the resolution order; the locale
 * and time zone hints.
 */
import { describe, expect, it } from 'vitest';
import { SafetyConfigSchema } from '../../src/config/safety-schema.js';
import { countryBlock, countryLines, countryName, supportedCountries, withCountryLines } from '../../src/safety/crisis-lines.js';
import { countryFromLocale, countryFromTimeZone, normalizeCountry, resolveCountry } from '../../src/safety/country.js';
import { repoConfig } from '../helpers.js';

const config = repoConfig();
const resources = config.safety.resources;
const texts = {
  response: config.safety.response,
  check_in: config.safety.check_in.message,
  help: config.responses.commands.help,
};
/** The generic crisis lines each text carries, as configured. */
const genericOf = (text: string): string[] => {
  const last = text.split('\n\n').findLast((p) => /findahelpline/i.test(p))!;
  const bullets = last.split('\n').filter((l) => l.startsWith('•'));
  return bullets.length > 0 ? bullets : [last];
};
const REQUIRED = ['US', 'CA', 'GB', 'IE', 'AU', 'NZ', 'IN', 'DE', 'FR', 'ES', 'NL', 'ZA'];

describe('crisis resources config', () => {
  it('covers the countries the issue names, each with lines, an emergency number, a source and a review date', () => {
    expect(supportedCountries(resources)).toEqual(expect.arrayContaining(REQUIRED));
    for (const code of supportedCountries(resources)) {
      const entry = resources.countries[code]!;
      expect(entry.lines.length, code).toBeGreaterThan(0);
      expect(entry.emergency, code).toMatch(/\d/);
      expect(entry.source.length, code).toBeGreaterThan(10);
      expect(entry.reviewed, code).toMatch(/^\d{4}-\d{2}$/);
    }
  });

  it('keeps findahelpline.com as the fallback in every text that carries lines', () => {
    for (const text of Object.values(texts)) expect(text).toMatch(/findahelpline\.com/);
  });

  it('rejects a lower-case code, a line without a bullet and a default with no entry', () => {
    const raw = structuredClone(config.safety) as any;
    const bad = (change: (r: any) => void): string[] => {
      const copy = structuredClone(raw);
      change(copy.resources);
      const out = SafetyConfigSchema.safeParse(copy);
      return out.success ? [] : out.error.issues.map((i) => i.path.join('.'));
    };
    expect(bad(() => undefined)).toEqual([]);
    expect(bad((r) => (r.countries.au = r.countries.AU))).toEqual([expect.stringContaining('resources.countries')]);
    expect(bad((r) => (r.countries.AU.lines = ['Lifeline 13 11 14']))).toEqual(['resources.countries.AU.lines.0']);
    expect(bad((r) => (r.countries.AU.lines = []))).toEqual(['resources.countries.AU.lines']);
    expect(bad((r) => (r.default_country = 'BR'))).toEqual(['resources.default_country']);
    expect(bad((r) => (r.countries.AU.extra = 1))).toEqual(['resources.countries.AU']);
  });
});

describe('withCountryLines', () => {
  for (const code of REQUIRED) {
    for (const [name, text] of Object.entries(texts)) {
      it(`${code}: its lines come first, then the generic ones, in the ${name}`, () => {
        const out = withCountryLines(text, resources, code);
        const own = countryLines(resources, code)!;
        expect(own.at(-1)).toContain(resources.countries[code]!.emergency);
        // The country's lines, together and in order.
        expect(out).toContain(own.join('\n'));
        const start = out.indexOf(own[0]!);
        const end = start + own.join('\n').length;
        // Every generic line is still there (unless the country says exactly the same), after them.
        for (const generic of genericOf(text)) {
          if (own.includes(generic)) {
            expect(out.split(generic).length - 1, `${generic} once`).toBe(1);
            continue;
          }
          expect(out.indexOf(generic), generic).toBeGreaterThanOrEqual(end);
        }
        // Nothing of the text is lost: with the country's lines taken out, the rest is the
        // configured text (less a generic line the country's repeats word for word).
        const block = own.join('\n');
        const without = out.includes(`\n\n${block}\n\n`) ? out.replace(`\n\n${block}`, '') : out.replace(`${block}\n`, '');
        const dropped = genericOf(text).filter((g) => own.includes(g));
        expect(without).toBe(dropped.reduce((t, g) => t.replace(g + '\n', ''), text));
      });
    }
  }

  it("puts help's lines after its command list, as their own paragraph before the generic line", () => {
    const out = withCountryLines(texts.help, resources, 'AU');
    const paragraphs = out.split('\n\n');
    expect(paragraphs.at(-1)).toBe(texts.help.split('\n\n').at(-1));
    expect(paragraphs.at(-2)).toBe(countryBlock(resources, 'AU'));
    expect(paragraphs.at(-3)).toContain('• forget:');
  });

  it('does not say the US line twice for the US', () => {
    const out = withCountryLines(texts.response, resources, 'US');
    expect(out.match(/call or text 988/g)).toHaveLength(1);
    expect(out).toContain('• US: if you are in immediate danger, call 911');
  });

  it('leaves the text exactly as configured for an unknown, junk or missing country', () => {
    for (const text of Object.values(texts)) {
      for (const code of [undefined, 'BR', 'XX', '', 'au', 'constructor', '__proto__']) {
        expect(withCountryLines(text, resources, code)).toBe(text);
      }
    }
  });

  it('returns the block alone for an empty text (the settings reply)', () => {
    expect(withCountryLines('', resources, 'NZ')).toBe(countryBlock(resources, 'NZ'));
    expect(countryBlock(resources, 'BR')).toBe('');
  });

  it('puts the lines before the first bullet of a text with bullets and no findahelpline', () => {
    expect(withCountryLines('Call now:\n• A: 1\nThanks.', resources, 'FR')).toBe(`Call now:\n${countryBlock(resources, 'FR')}\n• A: 1\nThanks.`);
    expect(withCountryLines('One.\n\nTwo.', resources, 'FR')).toBe(`One.\n\n${countryBlock(resources, 'FR')}\n\nTwo.`);
  });
});

describe('countryName and supportedCountries', () => {
  it('names configured countries and nothing else', () => {
    expect(countryName(resources, 'AU')).toBe('Australia');
    expect(countryName(resources, 'GB')).toBe('United Kingdom');
    expect(countryName(resources, 'BR')).toBeUndefined();
    expect(countryName(resources, undefined)).toBeUndefined();
    expect(countryName(resources, 'toString')).toBeUndefined();
  });
  it('lists the codes alphabetically', () => {
    const codes = supportedCountries(resources);
    expect(codes).toEqual([...codes].sort());
  });
});

describe('resolveCountry', () => {
  it("takes the person's setting over the platform's hint over the default", () => {
    expect(resolveCountry({ chosen: 'AU', platform: 'GB', fallback: 'US' })).toBe('AU');
    expect(resolveCountry({ platform: 'GB', fallback: 'US' })).toBe('GB');
    expect(resolveCountry({ fallback: 'US' })).toBe('US');
    expect(resolveCountry({})).toBeUndefined();
  });
  it('skips junk values instead of stopping at them', () => {
    expect(resolveCountry({ chosen: 'XX', platform: 'GB' })).toBe('GB');
    expect(resolveCountry({ chosen: 'australia', platform: '', fallback: 'IE' })).toBe('IE');
    expect(resolveCountry({ chosen: null, platform: 'UK', fallback: 'NZ' })).toBe('NZ');
    expect(resolveCountry({ chosen: '419', platform: undefined, fallback: 'ZZ' })).toBeUndefined();
  });
  it('accepts a real code in any case and keeps one without configured lines', () => {
    expect(resolveCountry({ chosen: ' au ' })).toBe('AU');
    expect(resolveCountry({ chosen: 'BR', platform: 'AU' })).toBe('BR');
    expect(normalizeCountry('de')).toBe('DE');
    expect(normalizeCountry(undefined)).toBeUndefined();
  });
});

describe('platform hints', () => {
  it('maps a locale with a region to its country, and a bare language to none', () => {
    expect(countryFromLocale('en-AU')).toBe('AU');
    expect(countryFromLocale('en_GB')).toBe('GB');
    expect(countryFromLocale('pt-BR')).toBe('BR');
    expect(countryFromLocale('zh-Hant-TW')).toBe('TW');
    for (const none of ['de', 'en', 'es-419', '', 'not a locale', 'en-XX']) expect(countryFromLocale(none), none).toBeUndefined();
  });
  it('maps a time zone to its country', () => {
    expect(countryFromTimeZone('Australia/Sydney')).toBe('AU');
    expect(countryFromTimeZone('Europe/London')).toBe('GB');
    expect(countryFromTimeZone('America/New_York')).toBe('US');
    expect(countryFromTimeZone('Asia/Kolkata')).toBe('IN');
    expect(countryFromTimeZone('Asia/Calcutta')).toBe('IN');
    expect(countryFromTimeZone('Europe/Berlin')).toBe('DE');
    expect(countryFromTimeZone('Europe/Stockholm')).toBe('SE');
    expect(countryFromTimeZone('Pacific/Auckland')).toBe('NZ');
    expect(countryFromTimeZone('Africa/Johannesburg')).toBe('ZA');
    expect(countryFromTimeZone('America/Toronto')).toBe('CA');
    for (const none of ['Etc/UTC', 'UTC', 'Mars/Olympus', '']) expect(countryFromTimeZone(none), none).toBeUndefined();
  });
  it('maps a zone of every configured country back to it', () => {
    const zones: Record<string, string> = {
      US: 'America/Chicago', CA: 'America/Vancouver', GB: 'Europe/London', IE: 'Europe/Dublin', AU: 'Australia/Perth', NZ: 'Pacific/Auckland',
      IN: 'Asia/Kolkata', DE: 'Europe/Berlin', FR: 'Europe/Paris', ES: 'Europe/Madrid', NL: 'Europe/Amsterdam', ZA: 'Africa/Johannesburg',
    };
    for (const code of REQUIRED) expect(countryFromTimeZone(zones[code]!), code).toBe(code);
  });
});
