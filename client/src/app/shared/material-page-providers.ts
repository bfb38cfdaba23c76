import { EnvironmentProviders, inject, provideEnvironmentInitializer } from '@angular/core';
import { MatIconRegistry } from '@angular/material/icon';

/**
 * What the pages built with Angular Material need, provided on their lazy routes rather than in
 * the shell, so none of it is in the initial bundle: icons from the self-hosted Material Symbols
 * font (never Google's servers).
 */
export function materialPageProviders(): EnvironmentProviders[] {
  return [
    provideEnvironmentInitializer(() => {
      inject(MatIconRegistry).setDefaultFontSetClass('material-symbols-outlined');
    }),
  ];
}
