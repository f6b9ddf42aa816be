// Read-only display of a record's fields, grouped by the field table's category.
import type { FieldSpec, FieldValue, RecordView } from '../api';
import { FieldType } from '../api';
import { countryName, fieldLabel, formatDate, formatNumber, languageName, t, valueLabel } from '../i18n';
import { Withheld } from './common';

export function formatValue(spec: FieldSpec, v: FieldValue | undefined): string {
  if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) return t('common.notRecorded');
  switch (spec.type) {
    case FieldType.Checkbox:
      return v ? t('common.yes') : t('common.no');
    case FieldType.Number:
      return typeof v === 'number' ? formatNumber(v) : String(v);
    case FieldType.Date:
      return formatDate(String(v));
    case FieldType.Picklist:
      return valueLabel(String(v));
    case FieldType.MultiPicklist:
      return (v as string[]).map(valueLabel).join(', ');
    case FieldType.Country:
      return countryName(String(v));
    case FieldType.Countries:
      return (v as string[]).map(countryName).join(', ');
    case FieldType.Language:
      return languageName(String(v));
    default:
      return String(v);
  }
}

export function FieldList({ record, specs }: { record: RecordView; specs: FieldSpec[] }) {
  return (
    <dl class="fields">
      {specs.map((spec) => {
        const withheld = record.redacted.includes(spec.name);
        const v = record.fields[spec.name];
        const empty = v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
        return (
          <div class="field-row" key={spec.name} data-field={spec.name}>
            <dt>{fieldLabel(spec.name, spec.label)}</dt>
            <dd class={empty && !withheld ? 'muted' : spec.type === FieldType.LongText ? 'long' : undefined}>
              {withheld ? <Withheld /> : formatValue(spec, v)}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

/** Categories in the order a person reads a record. */
export const SURVIVOR_SECTIONS = ['identity', 'demographic', 'contact', 'location', 'trafficking_history'];
export const CASE_SECTIONS = ['case_workflow', 'immigration', 'safety_plan', 'medical', 'legal_work_product'];

export function groupByCategory(specs: FieldSpec[], order: string[]): [string, FieldSpec[]][] {
  const groups = new Map<string, FieldSpec[]>();
  for (const c of order) groups.set(c, []);
  for (const s of specs) {
    if (!groups.has(s.category)) groups.set(s.category, []);
    groups.get(s.category)!.push(s);
  }
  return [...groups.entries()].filter(([, list]) => list.length > 0);
}
