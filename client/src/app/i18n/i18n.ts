import { registerLocaleData } from '@angular/common';
import { computed, DOCUMENT, inject, Injectable, signal } from '@angular/core';
import { TranslocoService } from '@jsverse/transloco';

/** Translation parameters. */
export type HashMap = Record<string, unknown>;
import { firstValueFrom } from 'rxjs';
import type { components } from '../api/openapi';
import { problemText } from './problem-text';

/** The console's languages: English and Simplified Chinese. */
export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Where the person's explicit choice is kept (the browser's language decides until they choose). */
export const LANGUAGE_STORAGE_KEY = 'api-keys.language';

/** Translates a key with parameters; what pure helpers (status labels, event lines) are given. */
export type Translate = (key: string, params?: HashMap) => string;

function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * The language to start in: the remembered choice, else the first of the browser's languages we
 * have (any Chinese tag reads Simplified Chinese), else English.
 */
export function preferredLanguage(stored: string | null, browserLanguages: readonly string[]): Language {
  if (isLanguage(stored)) return stored;
  for (const tag of browserLanguages) {
    const lower = tag.toLowerCase();
    if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
    if (lower === 'en' || lower.startsWith('en-')) return 'en';
  }
  return 'en';
}

function readStoredLanguage(): string | null {
  try {
    return localStorage.getItem(LANGUAGE_STORAGE_KEY);
  } catch {
    return null;
  }
}

/**
 * The chosen language and everything that depends on it: translations (Transloco, switched at
 * run time, no rebuild), and dates, relative times and numbers through the Intl APIs in the
 * matching locale. `lang` is a signal, so computed values and templates that translate through
 * `t()` follow a switch.
 */
@Injectable({ providedIn: 'root' })
export class I18n {
  private readonly transloco = inject(TranslocoService);
  private readonly document = inject(DOCUMENT);
  private readonly current = signal<Language>('en');

  readonly lang = this.current.asReadonly();
  /**
   * The Intl locale: Simplified Chinese as used in mainland China, or the browser's own variant
   * of English (en-GB writes 24-hour times and day-first dates), else plain `en`.
   */
  readonly locale = computed(() => {
    if (this.current() === 'zh-CN') return 'zh-CN';
    const languages = this.document.defaultView?.navigator.languages ?? [];
    return languages.find((tag) => /^en(-|$)/i.test(tag)) ?? 'en';
  });

  /** Chooses the starting language and loads its translations (an app initializer awaits this). */
  init(): Promise<void> {
    const navigator = this.document.defaultView?.navigator;
    const browser = navigator?.languages?.length ? navigator.languages : [navigator?.language ?? 'en'];
    return this.use(preferredLanguage(readStoredLanguage(), browser));
  }

  /** The person picked a language in the menu: switch now and remember it. */
  async choose(lang: Language): Promise<void> {
    try {
      localStorage.setItem(LANGUAGE_STORAGE_KEY, lang);
    } catch {
      // Private mode without storage: the choice holds for this page only.
    }
    await this.use(lang);
  }

  /** Switches language once its translations (and, for Chinese, Angular's locale data) are loaded. */
  async use(lang: Language): Promise<void> {
    await firstValueFrom(this.transloco.load(lang));
    if (lang === 'zh-CN') await registerChineseLocaleData();
    this.transloco.setActiveLang(lang);
    this.current.set(lang);
    this.document.documentElement.lang = lang;
  }

  /** The translation of `key` in the current language; reading it in a computed or template tracks the language. */
  readonly t: Translate = (key, params) => {
    this.current();
    return this.transloco.translate(key, params);
  };

  /** A count in words: `key.one` or `key.other` (Intl.PluralRules of the locale), with `count` formatted. */
  readonly plural = (key: string, count: number, params: HashMap = {}): string => {
    const category = new Intl.PluralRules(this.locale()).select(count) === 'one' ? 'one' : 'other';
    return this.t(`${key}.${category}`, { ...params, count: this.number(count) });
  };

  /**
   * What to say about a failed call: the API's problem in words for this language (see
   * problemText), or why there was no problem body (offline, a bare status).
   */
  problem(problem: Partial<components['schemas']['Problem']>, fallback?: string): string {
    if (!problem.code && !problem.detail) {
      if (problem.status === 0) return this.t('common.offline');
      if (problem.status) return fallback ?? this.t('common.serverAnswered', { status: problem.status });
    }
    return problemText(problem, this.t, this.current(), fallback);
  }

  number(value: number, options?: Intl.NumberFormatOptions): string {
    return new Intl.NumberFormat(this.locale(), options).format(value);
  }

  /** A date (and time, when asked) in the locale, in the viewer's time zone. */
  date(value: string | number | Date, options: Intl.DateTimeFormatOptions = { dateStyle: 'medium' }): string {
    return new Intl.DateTimeFormat(this.locale(), options).format(new Date(value));
  }
}

let chineseLocaleData: Promise<void> | undefined;

/** Angular's zh-Hans locale data (for Angular's own formatting), in its own chunk, registered once as zh-CN. */
function registerChineseLocaleData(): Promise<void> {
  chineseLocaleData ??= import('@angular/common/locales/zh-Hans').then((m) => {
    registerLocaleData(m.default, 'zh-CN');
  });
  return chineseLocaleData;
}
