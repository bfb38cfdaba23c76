import { EnvironmentProviders, inject, Injectable, isDevMode, provideAppInitializer } from '@angular/core';
import { provideTransloco, Translation, TranslocoLoader } from '@jsverse/transloco';
import { TitleStrategy } from '@angular/router';
import { I18n, Language, LANGUAGES } from './i18n';
import { TranslatedTitleStrategy } from './translated-title-strategy';

/**
 * The translations ship with the app: each language's JSON is its own lazy chunk (hashed, from
 * this server; nothing is fetched from anywhere else), loaded when the language is first used.
 */
const TRANSLATIONS: Record<Language, () => Promise<{ default: Translation }>> = {
  en: () => import('../../i18n/en.json'),
  'zh-CN': () => import('../../i18n/zh-CN.json'),
};

@Injectable({ providedIn: 'root' })
export class BundledTranslationLoader implements TranslocoLoader {
  getTranslation(lang: string): Promise<Translation> {
    const load = TRANSLATIONS[lang as Language] ?? TRANSLATIONS.en;
    return load().then((module) => module.default);
  }
}

/** Transloco, the starting language loaded before the first render, translated page titles. */
export function provideI18n(): Array<EnvironmentProviders | object> {
  return [
    provideTransloco({
      config: {
        availableLangs: [...LANGUAGES],
        defaultLang: 'en',
        reRenderOnLangChange: true,
        prodMode: !isDevMode(),
        missingHandler: { logMissingKey: isDevMode() },
      },
      loader: BundledTranslationLoader,
    }),
    provideAppInitializer(() => inject(I18n).init()),
    { provide: TitleStrategy, useClass: TranslatedTitleStrategy },
  ];
}
