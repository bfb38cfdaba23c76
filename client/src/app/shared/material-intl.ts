import { effect, inject, Injectable } from '@angular/core';
import { MatDatepickerIntl } from '@angular/material/datepicker';
import { MatPaginatorIntl } from '@angular/material/paginator';
import { I18n } from '../i18n/i18n';

/** The date picker's own labels ("Open calendar", …) in the chosen language. */
@Injectable()
export class TranslatedDatepickerIntl extends MatDatepickerIntl {
  private readonly i18n = inject(I18n);

  constructor() {
    super();
    effect(() => {
      const t = this.i18n.t;
      this.calendarLabel = t('material.calendar');
      this.openCalendarLabel = t('material.openCalendar');
      this.closeCalendarLabel = t('material.closeCalendar');
      this.prevMonthLabel = t('material.previousMonth');
      this.nextMonthLabel = t('material.nextMonth');
      this.prevYearLabel = t('material.previousYear');
      this.nextYearLabel = t('material.nextYear');
      this.prevMultiYearLabel = t('material.previousYears');
      this.nextMultiYearLabel = t('material.nextYears');
      this.switchToMonthViewLabel = t('material.chooseDate');
      this.switchToMultiYearViewLabel = t('material.chooseMonthYear');
      this.changes.next();
    });
  }
}

/** The paginator's labels ("Items per page", "1 – 50 of 120") in the chosen language. */
@Injectable()
export class TranslatedPaginatorIntl extends MatPaginatorIntl {
  private readonly i18n = inject(I18n);

  constructor() {
    super();
    effect(() => {
      const t = this.i18n.t;
      this.itemsPerPageLabel = t('material.itemsPerPage');
      this.nextPageLabel = t('material.nextPage');
      this.previousPageLabel = t('material.previousPage');
      this.firstPageLabel = t('material.firstPage');
      this.lastPageLabel = t('material.lastPage');
      this.getRangeLabel = (page: number, pageSize: number, length: number) => {
        if (length === 0) return t('material.rangeEmpty');
        const start = page * pageSize;
        const end = Math.min(start + pageSize, length);
        return t('material.range', { start: this.i18n.number(start + 1), end: this.i18n.number(end), length: this.i18n.number(length) });
      };
      this.changes.next();
    });
  }
}
