import { effect, inject, Injectable } from '@angular/core';
import { Title } from '@angular/platform-browser';
import { RouterStateSnapshot, TitleStrategy } from '@angular/router';
import { I18n } from './i18n';

/** Routes name their title by translation key; the document title follows a language switch. */
@Injectable()
export class TranslatedTitleStrategy extends TitleStrategy {
  private readonly title = inject(Title);
  private readonly i18n = inject(I18n);
  private snapshot?: RouterStateSnapshot;

  constructor() {
    super();
    effect(() => {
      this.i18n.lang();
      if (this.snapshot) this.apply(this.snapshot);
    });
  }

  override updateTitle(snapshot: RouterStateSnapshot): void {
    this.snapshot = snapshot;
    this.apply(snapshot);
  }

  private apply(snapshot: RouterStateSnapshot): void {
    const key = this.buildTitle(snapshot);
    const app = this.i18n.t('app.name');
    const page = key ? this.i18n.t(key) : '';
    this.title.setTitle(page && page !== app ? `${page} · ${app}` : app);
  }
}
