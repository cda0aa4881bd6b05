// An independent implementation checks D-Catalog's credentials, and issues
// credentials for D-Catalog to check: Digital Bazaar's @digitalbazaar/vc stack
// (Data Integrity, eddsa-rdfc-2022, Ed25519 Multikey), run by
// tests/integration/test_credentials_interop.py.
//
//   node crosscheck.mjs job.json   → prints one JSON answer on stdout
//
// job.json: {
//   "contexts":  {url: JSON-LD context},   the contexts D-Catalog ships (never fetched)
//   "documents": {url: document},          verification methods and controller documents
//   "verify":    [credential, ...],        credentials to verify
//   "issue":     {"template": unsigned credential, "statusListUrl": url, "statusIndex": n}
// }
// answer: {"verified": [{"verified": bool, "error": str|null}], "issued": {...}}
//
// Nothing here reaches the network: the document loader serves only what the
// job gives it, and the status check of a credential Node verifies is
// D-Catalog's side of the test (Node checks the signature and the data model
// rules of @digitalbazaar/vc).
import {readFileSync} from 'node:fs';
import {gzipSync} from 'node:zlib';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const served = {...job.contexts, ...job.documents};

async function documentLoader(url) {
  if(Object.hasOwn(served, url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(served[url])};
  }
  throw new Error(`the cross-check serves no document ${url}`);
}

function describe(error) {
  if(!error) {
    return null;
  }
  const errors = Array.isArray(error) ? error : [error];
  return errors.map(e => e && (e.message || String(e))).join('; ');
}

async function verify(credential) {
  const result = await vc.verifyCredential({
    credential,
    suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    documentLoader,
    // D-Catalog checks the status itself (part c); here only the signature.
    checkStatus: async () => ({verified: true})
  });
  return {verified: result.verified, error: describe(result.error)};
}

// Bitstring Status List v1.0: 131,072 bits, index 0 the most significant bit
// of the first byte, GZIP, base64url without padding, multibase prefix "u".
function encodedList(revokedIndex) {
  const bits = new Uint8Array(131072 / 8);
  bits[revokedIndex >> 3] |= 0x80 >> (revokedIndex & 7);
  return 'u' + gzipSync(bits).toString('base64url');
}

async function issue({template, statusListUrl, statusIndex}) {
  const key = await Ed25519Multikey.generate();
  const controller = `did:key:${key.publicKeyMultibase}`;
  key.controller = controller;
  key.id = `${controller}#${key.publicKeyMultibase}`;
  const suite = () => new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022});
  const issuer = {...template.issuer, id: controller};
  const plain = structuredClone(template);
  plain.issuer = issuer;
  delete plain.credentialStatus;
  const revocable = structuredClone(plain);
  revocable.id = `${template.id}-revocable`;
  revocable.credentialStatus = {
    id: `${statusListUrl}#${statusIndex}`,
    type: 'BitstringStatusListEntry',
    statusPurpose: 'revocation',
    statusListIndex: String(statusIndex),
    statusListCredential: statusListUrl
  };
  const statusList = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: statusListUrl,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: controller,
    validFrom: template.validFrom,
    credentialSubject: {
      id: `${statusListUrl}#list`,
      type: 'BitstringStatusList',
      statusPurpose: 'revocation',
      encodedList: encodedList(statusIndex)
    }
  };
  const sign = credential => vc.issue({credential, suite: suite(), documentLoader});
  return {
    verificationMethod: key.id,
    plain: await sign(plain),
    revocable: await sign(revocable),
    statusList: await sign(statusList)
  };
}

const answer = {verified: [], issued: null};
for(const credential of job.verify || []) {
  try {
    answer.verified.push(await verify(credential));
  } catch(error) {
    answer.verified.push({verified: false, error: describe(error)});
  }
}
if(job.issue) {
  answer.issued = await issue(job.issue);
}
process.stdout.write(JSON.stringify(answer));
