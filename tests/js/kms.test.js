// The AWS SDK for JavaScript v3 KMS client against trent. The client is built with no
// options at all: the endpoint comes from AWS_ENDPOINT_URL_KMS, the region from
// AWS_REGION and the credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.

import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';

import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisabledException,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  InvalidCiphertextException,
  KMSClient,
  KMSServiceException,
  NotFoundException,
} from '@aws-sdk/client-kms';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const KEY_ARN = new RegExp(`^arn:aws:kms:${REGION}:${ACCOUNT}:key/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$`);

const bytes = (text) => new TextEncoder().encode(text);
const text = (data) => new TextDecoder().decode(data);

async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('the call succeeded');
}

describe('@aws-sdk/client-kms against trent', () => {
  let kms;
  let keyArn;

  before(async () => {
    assert.match(process.env.AWS_ENDPOINT_URL_KMS ?? '', /^https?:\/\/\S+$/,
      'AWS_ENDPOINT_URL_KMS must point at trent');
    kms = new KMSClient();
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'js sdk' }));
    keyArn = KeyMetadata.Arn;
  });

  test('creates a symmetric key', async () => {
    assert.match(keyArn, KEY_ARN);
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyArn }));
    assert.equal(KeyMetadata.Arn, keyArn);
    assert.equal(KeyMetadata.AWSAccountId, ACCOUNT);
    assert.equal(KeyMetadata.Description, 'js sdk');
    assert.equal(KeyMetadata.KeyState, 'Enabled');
    assert.equal(KeyMetadata.Enabled, true);
    assert.equal(KeyMetadata.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(KeyMetadata.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.ok(KeyMetadata.CreationDate instanceof Date);
  });

  test('encrypts and decrypts with an encryption context', async () => {
    const context = { app: 'web', tenant: 'acme' };
    const encrypted = await kms.send(new EncryptCommand({
      KeyId: keyArn, Plaintext: bytes('the launch codes'), EncryptionContext: context,
    }));
    assert.equal(encrypted.KeyId, keyArn);
    assert.equal(encrypted.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.ok(encrypted.CiphertextBlob instanceof Uint8Array);
    assert.ok(!Buffer.from(encrypted.CiphertextBlob).includes('the launch codes'));

    const decrypted = await kms.send(new DecryptCommand({
      CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context,
    }));
    assert.equal(text(decrypted.Plaintext), 'the launch codes');
    assert.equal(decrypted.KeyId, keyArn);
    assert.equal(decrypted.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');

    const err = await rejection(kms.send(new DecryptCommand({
      CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { app: 'api', tenant: 'acme' },
    })));
    assert.equal(err.name, 'InvalidCiphertextException');
    assert.ok(err instanceof InvalidCiphertextException);
    assert.equal(err.$metadata.httpStatusCode, 400);
  });

  test('encrypts through an alias', async () => {
    const alias = `alias/js-${randomUUID()}`;
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyArn }));
    const encrypted = await kms.send(new EncryptCommand({ KeyId: alias, Plaintext: bytes('via alias') }));
    assert.equal(encrypted.KeyId, keyArn);
    const decrypted = await kms.send(new DecryptCommand({
      CiphertextBlob: encrypted.CiphertextBlob, KeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:${alias}`,
    }));
    assert.equal(text(decrypted.Plaintext), 'via alias');
    assert.equal(decrypted.KeyId, keyArn);
  });

  test('generates a data key for envelope encryption', async () => {
    const dataKey = await kms.send(new GenerateDataKeyCommand({
      KeyId: keyArn, KeySpec: 'AES_256', EncryptionContext: { file: 'report.csv' },
    }));
    assert.equal(dataKey.KeyId, keyArn);
    assert.equal(dataKey.Plaintext.length, 32);

    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', dataKey.Plaintext, iv);
    const sealed = Buffer.concat([cipher.update('id,amount\n1,7\n'), cipher.final()]);
    const tag = cipher.getAuthTag();

    const unwrapped = await kms.send(new DecryptCommand({
      CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { file: 'report.csv' },
    }));
    assert.deepEqual(Buffer.from(unwrapped.Plaintext), Buffer.from(dataKey.Plaintext));
    const decipher = createDecipheriv('aes-256-gcm', unwrapped.Plaintext, iv);
    decipher.setAuthTag(tag);
    assert.equal(Buffer.concat([decipher.update(sealed), decipher.final()]).toString(), 'id,amount\n1,7\n');

    const short = await kms.send(new GenerateDataKeyCommand({ KeyId: keyArn, NumberOfBytes: 16 }));
    assert.equal(short.Plaintext.length, 16);

    const bare = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyArn, KeySpec: 'AES_128' }));
    assert.equal(bare.Plaintext, undefined);
    const recovered = await kms.send(new DecryptCommand({ CiphertextBlob: bare.CiphertextBlob }));
    assert.equal(recovered.Plaintext.length, 16);
    assert.equal(recovered.KeyId, keyArn);
  });

  test('a missing key is a typed NotFoundException', async () => {
    const missing = randomUUID();
    const err = await rejection(kms.send(new DescribeKeyCommand({ KeyId: missing })));
    assert.equal(err.name, 'NotFoundException');
    assert.ok(err instanceof NotFoundException);
    assert.ok(err instanceof KMSServiceException);
    assert.equal(err.message, `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/${missing}' does not exist`);
    assert.equal(err.$fault, 'client');
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.ok(err.$metadata.requestId, 'a request id is reported');

    const aliasErr = await rejection(kms.send(new EncryptCommand({
      KeyId: 'alias/does-not-exist', Plaintext: bytes('x'),
    })));
    assert.ok(aliasErr instanceof NotFoundException);
    assert.equal(aliasErr.message, `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/does-not-exist is not found.`);
  });

  test('a disabled key is a typed DisabledException', async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    await kms.send(new DisableKeyCommand({ KeyId: KeyMetadata.KeyId }));
    const err = await rejection(kms.send(new EncryptCommand({ KeyId: KeyMetadata.Arn, Plaintext: bytes('x') })));
    assert.equal(err.name, 'DisabledException');
    assert.ok(err instanceof DisabledException);
    assert.equal(err.message, `${KeyMetadata.Arn} is disabled.`);
    await kms.send(new EnableKeyCommand({ KeyId: KeyMetadata.KeyId }));
    const encrypted = await kms.send(new EncryptCommand({ KeyId: KeyMetadata.Arn, Plaintext: bytes('back') }));
    assert.equal(encrypted.KeyId, KeyMetadata.Arn);
  });
});
