import en from '../../i18n/en.json';
import zhCN from '../../i18n/zh-CN.json';
import { EVENT_TYPES } from '../activity/activity.api';
import { preferredLanguage } from './i18n';
import { KNOWN_PROBLEM_CODES } from './problem-text';

type Tree = { [key: string]: string | Tree };

/** Every leaf key, dotted ("apiKeys.heading"), with its text. */
function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const found = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') found.set(path, value);
    else for (const [k, v] of leaves(value, path)) found.set(k, v);
  }
  return found;
}

/** The {{ parameters }} a text expects. */
const params = (text: string) => [...text.matchAll(/{{\s*(\w+)\s*}}/g)].map((m) => m[1]).sort();

describe('translations', () => {
  const english = leaves(en as Tree);
  const chinese = leaves(zhCN as Tree);

  it('has every English key in Simplified Chinese', () => {
    expect([...english.keys()].filter((key) => !chinese.has(key))).toEqual([]);
  });

  it('has no Simplified Chinese key that English lacks', () => {
    expect([...chinese.keys()].filter((key) => !english.has(key))).toEqual([]);
  });

  it('uses the same parameters in both languages, and leaves no text empty', () => {
    const mismatched = [...english].filter(([key, text]) => params(text).join() !== params(chinese.get(key) ?? '').join());
    expect(mismatched.map(([key]) => key)).toEqual([]);
    expect([...english, ...chinese].filter(([, text]) => text.trim() === '').map(([key]) => key)).toEqual([]);
  });

  it('has words for every problem code and event type the API documents', () => {
    expect(Object.keys(KNOWN_PROBLEM_CODES).filter((code) => !english.has(`problems.${code}`))).toEqual([]);
    expect(Object.keys(EVENT_TYPES).filter((type) => !english.has(`events.types.${type}`))).toEqual([]);
  });

  it("uses the seed's Chinese term for API keys", () => {
    expect(chinese.get('apiKeys.heading')).toBe('API密钥');
    expect(chinese.get('apiKeys.create')).toBe('创建API密钥');
  });
});

describe('preferredLanguage', () => {
  it('keeps a remembered choice over the browser', () => {
    expect(preferredLanguage('zh-CN', ['en-GB'])).toBe('zh-CN');
    expect(preferredLanguage('en', ['zh-CN'])).toBe('en');
  });
  it("follows the browser's first language we have, any Chinese reading Simplified Chinese", () => {
    expect(preferredLanguage(null, ['zh-CN', 'en'])).toBe('zh-CN');
    expect(preferredLanguage(null, ['zh-Hans'])).toBe('zh-CN');
    expect(preferredLanguage(null, ['de-DE', 'en-US', 'zh'])).toBe('en');
    expect(preferredLanguage('fr', ['fr-FR'])).toBe('en');
  });
});
