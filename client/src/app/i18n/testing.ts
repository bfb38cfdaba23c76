import { EnvironmentProviders, importProvidersFrom } from '@angular/core';
import { getValue, TranslocoTestingModule } from '@jsverse/transloco';
import en from '../../i18n/en.json';
import zhCN from '../../i18n/zh-CN.json';
import type { HashMap, Translate } from './i18n';

/** Transloco for component specs: both languages preloaded, English active (the specs read English). */
export function provideI18nTesting(lang: 'en' | 'zh-CN' = 'en'): EnvironmentProviders {
  return importProvidersFrom(
    TranslocoTestingModule.forRoot({
      langs: { en, 'zh-CN': zhCN },
      translocoConfig: {
        availableLangs: ['en', 'zh-CN'],
        defaultLang: lang,
        reRenderOnLangChange: true,
        missingHandler: { logMissingKey: false },
      },
      preloadLangs: true,
    }),
  );
}

/** A plain English translator for pure helpers' specs. */
export const englishTranslate: Translate = (key: string, params: HashMap = {}) => {
  const value = getValue(en as Record<string, unknown>, key);
  if (typeof value !== 'string') return key;
  return value.replace(/{{\s*(\w+)\s*}}/g, (_, name: string) => String(params[name] ?? ''));
};
