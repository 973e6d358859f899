/** Tenant action filters, pure: which actions they keep, and that each settings change is compiled once. */
import assert from 'node:assert/strict';
import { compileActionFilter } from '../src/tenants/actionFilter';
import { applySettingChanges, DEFAULT_SETTINGS, readSettings } from '../src/tenants/settings';

describe('tenant action filters (no database)', () => {
  it('keep what the include list matches, exactly or by * glob, minus what the exclude list matches', () => {
    const keeps = compileActionFilter(['Report *', 'login'], ['Report Draft*']);
    assert.deepEqual(['login', 'Report Sent', 'Report Draft 2', 'logout', 'Report', 'login2'].map(keeps), [true, true, false, false, false, false]);
    assert.equal(compileActionFilter([], [])('anything'), true);
  });

  it('read every character but * literally', () => {
    const keeps = compileActionFilter([], ['a.b', '(x)|y', 'c+']);
    assert.deepEqual(['a.b', 'aXb', '(x)|y', 'y', 'c+', 'cc'].map(keeps), [false, true, false, true, false, true]);
  });

  it('are compiled once per settings change, not each time the settings are read', () => {
    const stored = JSON.stringify(applySettingChanges(DEFAULT_SETTINGS, { excludeActions: 'noise *' }));
    const first = readSettings(stored);
    assert.equal(readSettings(stored).keepsAction, first.keepsAction, 'the same stored settings give the same compiled filter');
    assert.equal(first.keepsAction('noise 1'), false);
    const changed = readSettings(JSON.stringify(applySettingChanges(first, { excludeActions: 'other' })));
    assert.notEqual(changed.keepsAction, first.keepsAction);
    assert.deepEqual([changed.keepsAction('noise 1'), changed.keepsAction('other')], [true, false]);
  });

  it('stay out of the settings as written (stored text, API answers)', () => {
    const settings = readSettings(JSON.stringify({ includeActions: ['login'] }));
    assert.deepEqual(JSON.parse(JSON.stringify(settings)), { ...DEFAULT_SETTINGS, includeActions: ['login'] });
    assert.deepEqual(Object.keys(applySettingChanges(settings, { companyGroupType: 'account' })).sort(), Object.keys(DEFAULT_SETTINGS).sort());
  });
});
