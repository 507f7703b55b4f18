/**
 * The "Run again" dialog body: one text field per flow parameter (JSON where it parses).
 */
import { Widget } from '@lumino/widgets';

import { ParameterField, ParsedParameters, parseParameters } from '../models/params';
import type { JSONObject } from '../types';
import { h, replaceChildren } from './dom';

export class ParametersForm extends Widget {
  /** `previous` (the run's parameters) fill the fields where given, else the defaults. */
  constructor(fields: ParameterField[], previous: JSONObject = {}) {
    super();
    this._fields = fields;
    this.addClass('jp-flows-parameters-form');
    replaceChildren(
      this.node,
      fields.length
        ? fields.map(field => {
            const input = h('input', {
              type: 'text',
              name: field.name,
              class: 'jp-mod-styled',
              placeholder: field.required ? 'required' : (field.hint ?? ''),
              value: field.name in previous ? JSON.stringify(previous[field.name]) : field.defaultText
            });
            this._inputs.set(field.name, input);
            return h('label', { class: 'jp-flows-parameter' },
              h('span', { class: 'jp-flows-parameter-name' }, field.name, field.required ? ' *' : ''),
              input);
          })
        : h('div', {}, 'This flow has no parameters.'),
      fields.length
        ? h('div', { class: 'jp-flows-muted' }, 'Values are read as JSON (3, [1, 2], "text"); anything else is a string.')
        : null
    );
  }

  getValue(): ParsedParameters {
    const texts: Record<string, string> = {};
    for (const [name, input] of this._inputs) {
      texts[name] = input.value;
    }
    return parseParameters(this._fields, texts);
  }

  private _fields: ParameterField[];
  private _inputs = new Map<string, HTMLInputElement>();
}
