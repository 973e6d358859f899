/** The activityd command line: --help on every verb acts on nothing, flags are strict, CSV headers are checked, and docs/cli.md matches the parser. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import IORedis from 'ioredis';
import { VERBS } from '../src/cli/registry';
import { parseInvocation, UsageError, Verb, verbName } from '../src/cli/verb';
import { usageLine } from '../src/cli/help';
import { openDatabase, Db } from '../src/store/db';
import { countRows, createTestEnv, openMigrated, REPO_ROOT, TestEnv } from './support/testEnv';
import { newTenant, runActivityd } from './support/daemon';

/** Runs the commands a few at a time: each is a node process, and the machine's cores are shared. */
async function runAll(commands: string[][], env: TestEnv) {
  const results: Array<{ args: string[]; code: number | null; out: string }> = [];
  for (let start = 0; start < commands.length; start += 3) {
    const batch = commands.slice(start, start + 3);
    results.push(...(await Promise.all(batch.map(async (args) => ({ args, ...(await runActivityd(args, env.env, 20000)) })))));
  }
  return results;
}

/** Everything a verb could change: tenants (tokens and flags included), migrations, records, and the run's Redis keys. */
async function snapshot(db: Db, env: TestEnv) {
  const redis = new IORedis(env.config.REDIS_URL.display, { maxRetriesPerRequest: 1 });
  try {
    return {
      tenants: await db('tenants').orderBy('id'),
      adminToken: await db('admin_token').select('*'),
      migrations: await db('knex_migrations').orderBy('id'),
      records: await Promise.all(['companies', 'assets', 'projects', 'end_users', 'activities'].map((table) => countRows(db, table))),
      redisKeys: (await redis.keys(`{${env.env.QUEUE_PREFIX}}:*`)).sort(),
    };
  } finally {
    redis.disconnect();
  }
}

/** The help of `verb` names it, every argument and every flag. */
function assertVerbHelp(verb: Verb, result: { args: string[]; code: number | null; out: string }) {
  const what = result.args.join(' ');
  assert.equal(result.code, 0, `${what}: ${result.out}`);
  assert.ok(result.out.startsWith(`Usage: ${usageLine(verb)}\n`), `${what} prints its usage: ${result.out}`);
  for (const arg of verb.args ?? []) assert.ok(result.out.includes(arg.name), `${what} names ${arg.name}`);
  for (const flag of Object.keys(verb.flags ?? {})) assert.ok(result.out.includes(`--${flag}`), `${what} names --${flag}`);
  assert.ok(result.out.includes('-h, --help'), `${what} names --help`);
}

const verbNamed = (name: string) => VERBS.find((verb) => verbName(verb) === name) as Verb;

describe('cli: --help', () => {
  it('on an empty database, `migrate --help` and the daemon verbs\' --help print their usage, exit 0, and neither migrate nor start anything', async () => {
    const env = createTestEnv();
    try {
      const results = await runAll([['migrate', '--help'], ['migrate', '-h'], ['start', '--help'], ['receiver', '--help'], ['worker', '-h']], env);
      for (const result of results) assertVerbHelp(verbNamed(result.args[0]), result);
      const db = openDatabase(env.config);
      try {
        assert.equal(await db.schema.hasTable('knex_migrations'), false, 'no migration ran');
        assert.equal(await db.schema.hasTable('tenants'), false, 'no table was made');
      } finally {
        await db.destroy();
      }
    } finally {
      await env.cleanup();
    }
  });

  describe('on a migrated database with a tenant', () => {
    let env: TestEnv;
    let db: Db;
    let tenantId: string;

    before(async () => {
      env = createTestEnv();
      db = await openMigrated(env.config);
      tenantId = String((await newTenant(db, 'kept')).id);
    });
    after(async () => {
      await db?.destroy();
      await env?.cleanup();
    });

    it('every verb answers --help, even after real arguments, with its usage and exit 0, and changes nothing', async () => {
      const before = await snapshot(db, env);
      const file = path.join(env.dir, 'companies.csv');
      fs.writeFileSync(file, 'externalId,name\nacme,Acme\n');
      const plain = VERBS.map((verb) => [...verb.words, '--help']);
      const withArguments = [
        ['tenant', 'create', 'acme', '--help'],
        ['tenant', 'create', '-h', 'acme'],
        ['tenant', 'disable', tenantId, '--help'],
        ['tenant', 'rotate-token', tenantId, '-h'],
        ['admin-token', 'rotate', '--help'],
        ['tenant', 'set', tenantId, 'autoCreateCompanies=false', '--help'],
        ['failed', 'discard', '--all', '--help'],
        ['import', 'companies', file, '--tenant', tenantId, '--help'],
        ['start', '--unknown-flag', '--help'],
      ];
      for (const result of await runAll([...plain, ...withArguments], env)) {
        const verb = VERBS.filter((candidate) => candidate.words.every((word, index) => result.args[index] === word)).sort((a, b) => b.words.length - a.words.length)[0];
        assertVerbHelp(verb, result);
      }
      assert.deepEqual(await snapshot(db, env), before, 'no tenant made, disabled, rotated or changed, no admin token made or rotated, no migration, no record, no queue key');
    });

    it('`activityd --help` lists every verb, and each group\'s --help lists its verbs; all exit 0', async () => {
      const groups = [...new Set(VERBS.filter((verb) => verb.words.length > 1).map((verb) => verb.words[0]))];
      const results = await runAll([['--help'], ['-h'], ['help'], ...groups.map((group) => [group, '--help'])], env);
      for (const { args, code, out } of results) {
        assert.equal(code, 0, `${args.join(' ')}: ${out}`);
        const listed = args[0].startsWith('-') || args[0] === 'help' ? VERBS : VERBS.filter((verb) => verb.words[0] === args[0]);
        for (const verb of listed) assert.ok(out.includes(usageLine(verb).replace(/^activityd /, '')), `${args.join(' ')} lists ${verbName(verb)}: ${out}`);
      }
    });

    it('an unknown flag stops the command with exit 2 naming the flag, and nothing is done', async () => {
      const before = await snapshot(db, env);
      const [created, migrated] = await runAll([['tenant', 'create', 'acme', '--force'], ['migrate', '--dry-run']], env);
      assert.equal(created.code, 2, created.out);
      assert.match(created.out, /activityd: tenant create: unknown option --force/);
      assert.equal(migrated.code, 2, migrated.out);
      assert.match(migrated.out, /activityd: migrate: unknown option --dry-run/);
      assert.deepEqual(await snapshot(db, env), before);
    });

    describe('import checks the CSV header against the kind before writing any row', () => {
      const write = (name: string, lines: string[]) => {
        const file = path.join(env.dir, name);
        fs.writeFileSync(file, lines.join('\n') + '\n');
        return file;
      };

      it('refuses a column of another kind, a missing externalId column and a column named twice, with exit 2 naming the column; nothing is written', async () => {
        const assetsFile = write('assets.csv', ['externalId,name,companyExternalId', 'a1,Laptop,acme']);
        const noId = write('no-id.csv', ['name,domains', 'Acme,acme.com']);
        const twice = write('twice.csv', ['externalId,name,name', 'acme,Acme,Acme Inc']);
        const results = await runAll(
          [
            ['import', 'companies', assetsFile, '--tenant', tenantId],
            ['import', 'companies', noId, '--tenant', tenantId],
            ['import', 'projects', twice, '--tenant', tenantId],
          ],
          env,
        );
        const expected = [
          /activityd: .*assets\.csv: the header's column 3, "companyExternalId", is not a column of companies \(companies take externalId, name, domains\); nothing was imported/,
          /activityd: .*no-id\.csv: the header has no "externalId" column/,
          /activityd: .*twice\.csv: the header names "name" twice/,
        ];
        results.forEach((result, index) => {
          assert.equal(result.code, 2, result.out);
          assert.match(result.out, expected[index]);
        });
        for (const table of ['companies', 'assets', 'projects']) assert.equal(await countRows(db, table), 0, `no ${table} written`);
      });

      it('takes the kind\'s columns in any order, and leaves out the optional ones', async () => {
        await db('companies').insert({ tenant_id: Number(tenantId), external_id: 'globex', name: 'Globex', created_at: 1 });
        const file = write('assets-reordered.csv', ['companyExternalId,externalId', 'globex,a2']);
        const result = await runActivityd(['import', 'assets', file, '--tenant', tenantId], env.env);
        assert.equal(result.code, 0, result.out);
        assert.match(result.out, /\{"rows":1,"created":1,"updated":0,"refused":\[\]\}/);
        const asset = await db('assets').where({ external_id: 'a2' }).first();
        const company = await db('companies').where({ external_id: 'globex' }).first();
        assert.equal(asset.company_id, company.id);
        assert.equal(asset.name, 'a2', 'no name column: the externalId names it');
      });

      it('names --tenant when it is missing or not an id', async () => {
        const file = write('plain.csv', ['externalId', 'x']);
        const [missing, bad] = await runAll([['import', 'companies', file], ['import', 'companies', file, '--tenant=abc']], env);
        assert.equal(missing.code, 2);
        assert.match(missing.out, /activityd: import companies needs --tenant ID/);
        assert.equal(bad.code, 2);
        assert.match(bad.out, /activityd: --tenant must be a whole number, got "abc"/);
      });
    });
  });
});

describe('cli: the parser of every verb (in this process)', () => {
  /** The verb's required arguments and flags, each given once; `leaving` leaves one flag out. */
  function validArguments(verb: Verb, leaving?: string): string[] {
    const args = (verb.args ?? []).filter((arg) => !arg.optional).map((arg) => `${arg.name.toLowerCase()}-value`);
    const flags = Object.entries(verb.flags ?? {}).filter(([name, flag]) => flag.required && name !== leaving);
    return [...args, ...flags.flatMap(([name]) => [`--${name}`, `${name}-value`])];
  }

  const refusal = (verb: Verb, argv: string[]) => () => parseInvocation(verb, argv);
  const naming = (text: string) => (error: Error) => error instanceof UsageError && error.message.includes(text);

  for (const verb of VERBS) {
    it(`${verbName(verb)}: refuses an unknown flag, a missing argument or flag, a flag's missing or surplus value, and a surplus argument, naming each`, () => {
      const valid = validArguments(verb);
      const required = (verb.args ?? []).filter((arg) => !arg.optional);
      assert.equal(parseInvocation(verb, valid).args.length, required.length);
      assert.throws(refusal(verb, [...valid, '--bogus']), naming('unknown option --bogus'));
      if (required[0]) assert.throws(refusal(verb, []), naming(`${verbName(verb)} needs ${required[0].repeated ? 'at least one' : /^[AEIOU]/i.test(required[0].name) ? 'an' : 'a'} ${required[0].name}`));
      for (const [name, flag] of Object.entries(verb.flags ?? {})) {
        if (flag.required) assert.throws(refusal(verb, validArguments(verb, name)), naming(`needs --${name}`));
        if (flag.type === 'string') assert.throws(refusal(verb, [...validArguments(verb, name), `--${name}`]), naming(`--${name} needs a value`));
        else assert.throws(refusal(verb, [...valid, `--${name}=yes`]), naming(`--${name} takes no value`));
      }
      if (!(verb.args ?? []).some((arg) => arg.repeated)) assert.throws(refusal(verb, [...valid, 'surplus']), naming('unexpected argument "surplus"'));
    });
  }
});

describe('cli: docs/cli.md', () => {
  const docs = fs.readFileSync(path.join(REPO_ROOT, 'docs/cli.md'), 'utf8');
  /** The text under each `### \`activityd VERB\`` heading, up to the next heading. */
  const sections = new Map([...docs.matchAll(/^### `activityd ([^`]+)`\n([\s\S]*?)(?=^#{1,3} |(?![\s\S]))/gm)].map((match) => [match[1], match[2]]));

  it('has a section for every verb and none for a verb that does not exist', () => {
    assert.deepEqual([...sections.keys()].sort(), VERBS.map(verbName).sort());
  });

  it('shows each verb\'s usage line as the parser prints it, and names each of its arguments and flags', () => {
    for (const verb of VERBS) {
      const section = sections.get(verbName(verb)) ?? '';
      assert.ok(section.includes('```\n' + usageLine(verb) + '\n```'), `docs/cli.md shows "${usageLine(verb)}"`);
      for (const arg of verb.args ?? []) assert.ok(section.includes(arg.name), `docs/cli.md's ${verbName(verb)} names ${arg.name}`);
      for (const flag of Object.keys(verb.flags ?? {})) assert.ok(section.includes(`--${flag}`), `docs/cli.md's ${verbName(verb)} names --${flag}`);
    }
  });
});
