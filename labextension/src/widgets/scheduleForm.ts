/**
 * The "Schedule notebook as flow" dialog body: cron or interval, and a time zone.
 */
import { Widget } from '@lumino/widgets';

import { ScheduleChoice } from '../models/scheduleMagic';
import { h, replaceChildren } from './dom';

export class ScheduleForm extends Widget {
  constructor() {
    super();
    this.addClass('jp-flows-schedule-form');
    this._kind = h('select', { class: 'jp-mod-styled jp-flows-schedule-kind' },
      h('option', { value: 'cron' }, 'cron'),
      h('option', { value: 'every' }, 'every'));
    this._when = h('input', { type: 'text', class: 'jp-mod-styled jp-flows-schedule-when',
                              value: '0 6 * * 1-5', placeholder: '0 6 * * 1-5 or 15m' });
    this._zone = h('input', { type: 'text', class: 'jp-mod-styled jp-flows-schedule-zone',
                              value: Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC' });
    this._kind.onchange = () => {
      this._when.value = this._kind.value === 'cron' ? '0 6 * * 1-5' : '1h';
    };
    replaceChildren(
      this.node,
      h('label', { class: 'jp-flows-parameter' }, h('span', {}, 'Runs '), this._kind, this._when),
      h('label', { class: 'jp-flows-parameter' }, h('span', {}, 'Time zone '), this._zone),
      h('div', { class: 'jp-flows-muted' },
        'The notebook\'s task cells are registered as a flow whose schedule the backend runs ' +
        '(%flow schedule in its kernel); pause it from the flows panel.')
    );
  }

  getValue(): ScheduleChoice {
    return { kind: this._kind.value === 'every' ? 'every' : 'cron', when: this._when.value,
             timeZone: this._zone.value };
  }

  private _kind: HTMLSelectElement;
  private _when: HTMLInputElement;
  private _zone: HTMLInputElement;
}
