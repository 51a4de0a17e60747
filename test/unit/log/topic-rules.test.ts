import { describe, expect, it } from 'vitest';
import { codeOf } from '../../support/error-code.ts';
import {
  DEFAULT_TOPIC_CONFIG,
  applyConfigChanges,
  effectiveConfig,
  isLegalTopicName,
  requireExistingTopicName,
  validatePartitionCount,
  validatePartitionGrowth,
  validateTopicName,
} from '../../../lib/log/topic-rules.ts';
import { collisionName } from '../../../lib/model/topic.ts';

describe('topic names (Kafka TopicTest.java)', () => {
  it.each(['a', 'valid', 'TOPIC', 'nAmEs', 'ar6', 'VaL1d', '_0-9_.', '...', 'a'.repeat(249), 'foo.bar', 'foo_bar', 'foo-bar'])(
    'accepts %s',
    (name) => {
      expect(validateTopicName(name)).toBe(name);
    },
  );

  it.each(['', '.', '..', 'a'.repeat(250), 'foo bar', 'foo/bar', 'föö', 'foo:bar', 'foo\tbar', '#', 'a*'])(
    'rejects %j with INVALID_TOPIC_EXCEPTION',
    (name) => {
      expect(codeOf(() => validateTopicName(name))).toBe('INVALID_TOPIC_EXCEPTION');
    },
  );

  it('says "Topic name is invalid" as Kafka does', () => {
    expect(() => validateTopicName('a b')).toThrow(/^Topic name is invalid: /);
  });

  it('rejects non-strings', () => {
    expect(codeOf(() => validateTopicName(42))).toBe('INVALID_TOPIC_EXCEPTION');
    expect(codeOf(() => validateTopicName(null))).toBe('INVALID_TOPIC_EXCEPTION');
  });

  it('maps "." to "_" for collisions, so foo.bar and foo_bar collide but foo-bar does not', () => {
    expect(collisionName('foo.bar')).toBe(collisionName('foo_bar'));
    expect(collisionName('a.b_c.')).toBe('a_b_c_');
    expect(collisionName('foo-bar')).not.toBe(collisionName('foo_bar'));
  });
});

describe('names of existing topics', () => {
  const LEGAL = ['a', '...', 'foo.bar', 'a'.repeat(249)];
  const ILLEGAL = ['', '.', '..', 'a'.repeat(250), 'a'.repeat(3000), 'foo bar', '%FF', 'föö', 'a\u0000'];

  it('agrees with validateTopicName on every name', () => {
    for (const name of [...LEGAL, ...ILLEGAL]) {
      expect(isLegalTopicName(name)).toBe(codeOf(() => validateTopicName(name)) === undefined);
    }
  });

  it.each(LEGAL)('passes %s through to the lookup', (name) => {
    expect(requireExistingTopicName(name)).toBe(name);
  });

  it.each(ILLEGAL.map((n) => [n.length > 40 ? `${n.length} characters` : JSON.stringify(n), n]))(
    'answers %s as an unknown topic (UNKNOWN_TOPIC_OR_PARTITION), as Kafka does',
    (_what, name) => {
      expect(codeOf(() => requireExistingTopicName(name))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    },
  );

  it('does not echo a long name back whole', () => {
    let err: any;
    try {
      requireExistingTopicName('x'.repeat(3000));
    } catch (e) {
      err = e;
    }
    expect(err.message.length).toBeLessThan(100);
    expect(err.details.topic).toBe(`${'x'.repeat(40)}…`);
  });
});

describe('partition counts', () => {
  it.each([1, 2, 10_000])('accepts %d', (n) => expect(validatePartitionCount(n)).toBe(n));
  it.each([0, -1, 10_001, 1.5, Number.NaN, '3', null])('rejects %j with INVALID_PARTITIONS', (n) => {
    expect(codeOf(() => validatePartitionCount(n))).toBe('INVALID_PARTITIONS');
  });
  it('only grows', () => {
    expect(validatePartitionGrowth(3, 6)).toBe(6);
    expect(validatePartitionGrowth(3, 3)).toBe(3);
    expect(codeOf(() => validatePartitionGrowth(3, 2))).toBe('INVALID_PARTITIONS');
    expect(codeOf(() => validatePartitionGrowth(3, 10_001))).toBe('INVALID_PARTITIONS');
  });
});

describe('topic configs', () => {
  it('fills Kafka defaults', () => {
    const config = effectiveConfig(undefined);
    expect(config).toEqual(DEFAULT_TOPIC_CONFIG);
    expect(config['retention.ms']).toBe(7 * 24 * 3600 * 1000);
    expect(config['retention.bytes']).toBe(-1);
    expect(config['cleanup.policy']).toBe('delete');
    expect(config['delete.retention.ms']).toBe(24 * 3600 * 1000);
    expect(config['max.message.bytes']).toBe(1024 * 1024);
    expect(config['message.timestamp.type']).toBe('CreateTime');
  });

  it('accepts numbers and numeric strings, and every listed key', () => {
    const config = effectiveConfig({
      'retention.ms': '1000',
      'retention.bytes': 2048,
      'cleanup.policy': 'delete,compact',
      'delete.retention.ms': 0,
      'max.message.bytes': 100,
      'message.timestamp.type': 'LogAppendTime',
    });
    expect(config['retention.ms']).toBe(1000);
    expect(config['retention.bytes']).toBe(2048);
    expect(config['cleanup.policy']).toBe('compact,delete');
    expect(config['max.message.bytes']).toBe(100);
    expect(config['message.timestamp.type']).toBe('LogAppendTime');
  });

  it.each([
    [{ 'no.such.key': 1 }],
    [{ 'retention.ms': -2 }],
    [{ 'retention.ms': 1.5 }],
    [{ 'retention.ms': 'soon' }],
    [{ 'cleanup.policy': 'shred' }],
    [{ 'message.timestamp.type': 'createtime' }],
    [{ 'max.message.bytes': 7 * 1024 * 1024 }],
    [{ 'delete.retention.ms': -1 }],
  ])('rejects %j with INVALID_CONFIG', (changes) => {
    expect(codeOf(() => effectiveConfig(changes))).toBe('INVALID_CONFIG');
  });

  it('resets a key to its default on null and keeps the others', () => {
    const base = effectiveConfig({ 'retention.ms': 5, 'retention.bytes': 10 });
    const next = applyConfigChanges(base, { 'retention.ms': null });
    expect(next['retention.ms']).toBe(DEFAULT_TOPIC_CONFIG['retention.ms']);
    expect(next['retention.bytes']).toBe(10);
  });
});
