/**
 * The "run again" form: one field per flow parameter, parsed as JSON where it parses.
 */
import type { FlowSpec, JSONObject, JSONValue } from '../types';

export interface ParameterField {
  name: string;
  required: boolean;
  /** The default as the text the field starts with ('' when required or not JSON). */
  defaultText: string;
  /** What to show when the default is not JSON (its repr). */
  hint: string | null;
}

/** One field per parameter of the flow, in the spec's order. */
export function parameterFields(spec: FlowSpec): ParameterField[] {
  const byName = new Map(spec.tasks.filter(task => task.is_parameter).map(task => [task.name, task]));
  const names = spec.parameters?.length ? spec.parameters : [...byName.keys()];
  return names.map(name => {
    const parameter = byName.get(name)?.parameter;
    const required = parameter?.required ?? false;
    const hasJsonDefault = !!parameter && !required && parameter.default_repr == null;
    return {
      name,
      required,
      defaultText: hasJsonDefault ? JSON.stringify(parameter!.default) : '',
      hint: parameter?.default_repr ?? null
    };
  });
}

/** A field's text as a value: JSON when it parses (`3`, `[1, 2]`, `"x"`), else the text. */
export function parseValue(text: string): JSONValue {
  try {
    return JSON.parse(text) as JSONValue;
  } catch {
    return text;
  }
}

export interface ParsedParameters {
  values: JSONObject;
  errors: string[];
}

/**
 * The parameters to send: fields left as their default are left out (the backend uses the
 * flow's default), an empty required field is an error naming it.
 */
export function parseParameters(fields: ParameterField[],
                                texts: Record<string, string>): ParsedParameters {
  const values: JSONObject = {};
  const errors: string[] = [];
  for (const field of fields) {
    const text = (texts[field.name] ?? field.defaultText).trim();
    if (!text) {
      if (field.required) {
        errors.push(`parameter '${field.name}' is required`);
      }
      continue;
    }
    if (!field.required && text === field.defaultText) {
      continue;
    }
    values[field.name] = parseValue(text);
  }
  return { values, errors };
}
