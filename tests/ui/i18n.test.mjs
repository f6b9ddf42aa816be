// The catalogs cover every field and picklist value the API serves, in both languages.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { apiSession } from './lib.mjs';

const load = (lang) => JSON.parse(readFileSync(new URL(`../../web/src/i18n/${lang}.json`, import.meta.url), 'utf8'));

test('en and es catalogs have the same keys and no empty strings', () => {
  const en = load('en');
  const es = load('es');
  assert.deepEqual(Object.keys(es).sort(), Object.keys(en).sort());
  for (const [k, v] of [...Object.entries(en), ...Object.entries(es)]) assert.ok(v.trim(), `empty message ${k}`);
});

test('every field, category and picklist value from GET /api/v1/fields has a label in both languages', async () => {
  const s = await apiSession('advocate');
  const { status, json } = await s.get('/api/v1/fields');
  assert.equal(status, 200);
  for (const lang of ['en', 'es']) {
    const cat = load(lang);
    const missing = [];
    for (const f of json.items) {
      if (!cat[`field.${f.name}`]) missing.push(`field.${f.name}`);
      if (!cat[`category.${f.category}`]) missing.push(`category.${f.category}`);
      for (const v of f.values) if (!cat[`value.${v}`]) missing.push(`value.${v}`);
    }
    assert.deepEqual([...new Set(missing)], [], `${lang} catalog`);
  }
});
