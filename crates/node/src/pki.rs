//! Certificates and TLS for the consortium network.
//!
//! Chain CA (self-signed) → one CA per agency (may only sign node certificates) → one
//! certificate per node. All TLS keys are ECDSA P-256 (what rustls/webpki verify); a node's
//! certificate also carries its **node id** (its consensus public key, secp256k1 or SM2, 64
//! bytes) in a private extension the agency signs, so a verified TLS peer is a known node id.
//! Both ends of a connection run TLS 1.3 with mutual authentication and accept only chains
//! that end at this chain's CA.

use anyhow::{Context, Result, anyhow, bail};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use std::sync::Arc;

/// Private OID of the node-id extension (an arc under our private enterprise number space).
pub const NODE_ID_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 61_234, 1, 1];

/// A certificate and its private key, PEM encoded.
#[derive(Debug, Clone)]
pub struct PemPair {
    /// The certificate.
    pub cert: String,
    /// Its private key (PKCS#8).
    pub key: String,
}

fn ca_params(common_name: &str, path_len: Option<u8>) -> Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, common_name);
    p.distinguished_name.push(DnType::OrganizationName, "Jinlian consortium");
    p.is_ca = match path_len {
        Some(n) => IsCa::Ca(BasicConstraints::Constrained(n)),
        None => IsCa::Ca(BasicConstraints::Unconstrained),
    };
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(p)
}

/// A new chain CA (the root every node trusts).
pub fn new_chain_ca(chain_name: &str) -> Result<PemPair> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let ca =
        CertifiedIssuer::self_signed(ca_params(&format!("{chain_name} chain CA"), None)?, key)?;
    Ok(PemPair { cert: ca.pem(), key: ca.key().serialize_pem() })
}

fn issuer(ca: &PemPair) -> Result<Issuer<'static, KeyPair>> {
    let key = KeyPair::from_pem(&ca.key).context("the CA key is not a PKCS#8 PEM key")?;
    Issuer::from_ca_cert_pem(&ca.cert, key).context("the CA certificate does not parse")
}

/// A new agency CA signed by the chain CA; it may sign node certificates only.
pub fn new_agency_ca(chain_ca: &PemPair, agency: &str) -> Result<PemPair> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let params = ca_params(&format!("agency {agency}"), Some(0))?;
    let ca = CertifiedIssuer::signed_by(params, key, &issuer(chain_ca)?)?;
    Ok(PemPair { cert: ca.pem(), key: ca.key().serialize_pem() })
}

/// A new node TLS certificate signed by an agency CA, carrying `node_id`.
pub fn new_node_cert(agency_ca: &PemPair, node_name: &str, node_id: &[u8; 64]) -> Result<PemPair> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut p = CertificateParams::new(vec!["node.jinlian".to_string()])?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, node_name);
    p.extended_key_usages =
        vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let mut content = vec![0x04, 0x40]; // DER OCTET STRING of 64 bytes
    content.extend_from_slice(node_id);
    p.custom_extensions.push(CustomExtension::from_oid_content(NODE_ID_OID, content));
    let cert = p.signed_by(&key, &issuer(agency_ca)?)?;
    Ok(PemPair { cert: cert.pem(), key: key.serialize_pem() })
}

/// The node id in a node certificate (DER).
pub fn node_id_of(cert: &CertificateDer<'_>) -> Result<[u8; 64]> {
    let (_, x509) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| anyhow!("the certificate does not parse: {e}"))?;
    let oid = x509_parser::oid_registry::Oid::from(NODE_ID_OID)
        .map_err(|_| anyhow!("bad node-id OID"))?;
    let ext = x509
        .extensions()
        .iter()
        .find(|e| e.oid == oid)
        .ok_or_else(|| anyhow!("the certificate carries no node id"))?;
    match ext.value {
        [0x04, 0x40, rest @ ..] if rest.len() == 64 => {
            let mut id = [0u8; 64];
            id.copy_from_slice(rest);
            Ok(id)
        }
        _ => bail!("the node-id extension is not a 64-byte octet string"),
    }
}

fn certs(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let mut reader = pem.as_bytes();
    let out: Vec<_> = rustls_pemfile_certs(&mut reader)?;
    if out.is_empty() {
        bail!("no certificate in the PEM text");
    }
    Ok(out)
}

/// Parses every `CERTIFICATE` block of a PEM text.
fn rustls_pemfile_certs(pem: &mut &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map_err(|e| anyhow!("bad PEM certificate: {e:?}")))
        .collect()
}

/// What a node needs to speak TLS on the chain: its chain (node cert, agency cert), its key,
/// and the chain CA.
#[derive(Debug, Clone)]
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    key_pem: String,
    roots: Arc<RootCertStore>,
    /// The node id in our own certificate.
    pub node_id: [u8; 64],
}

impl TlsIdentity {
    /// From PEM texts: the node's certificate, the agency CA certificate, the node's TLS key
    /// and the chain CA certificate.
    pub fn from_pem(
        node_cert: &str,
        agency_cert: &str,
        node_key: &str,
        chain_ca: &str,
    ) -> Result<Self> {
        let mut chain = certs(node_cert).context("node certificate")?;
        chain.truncate(1);
        chain.extend(certs(agency_cert).context("agency certificate")?);
        let mut roots = RootCertStore::empty();
        for ca in certs(chain_ca).context("chain CA certificate")? {
            roots.add(ca).map_err(|e| anyhow!("the chain CA is not a usable root: {e}"))?;
        }
        let node_id = node_id_of(&chain[0])?;
        // Check now what peers would check later, so a wrong file is reported at start.
        let provider = Self::provider();
        let leaf = ParsedCertificate::try_from(&chain[0])
            .map_err(|e| anyhow!("the node certificate does not parse: {e}"))?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &leaf,
            &roots,
            &chain[1..],
            UnixTime::now(),
            provider.signature_verification_algorithms.all,
        )
        .map_err(|e| {
            anyhow!(
                "the node certificate does not chain to the chain CA through the agency \
                 certificate ({e}): check that tls/agency.crt is the agency that issued \
                 tls/node.crt and tls/ca.crt is this chain's CA"
            )
        })?;
        Self::private_key(node_key)?;
        let id = Self { chain, key_pem: node_key.to_string(), roots: Arc::new(roots), node_id };
        id.server_config().map_err(|e| {
            anyhow!("the node TLS key does not belong to the node certificate ({e})")
        })?;
        Ok(id)
    }

    fn private_key(pem: &str) -> Result<PrivateKeyDer<'static>> {
        use rustls::pki_types::pem::PemObject;
        PrivateKeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| anyhow!("the node TLS key is not a PEM private key: {e:?}"))
    }

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// The accepting side: TLS 1.3, client certificates required and verified up to the
    /// chain CA.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>> {
        let provider = Self::provider();
        let verifier =
            WebPkiClientVerifier::builder_with_provider(self.roots.clone(), provider.clone())
                .build()
                .map_err(|e| anyhow!("client verifier: {e}"))?;
        let cfg = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), Self::private_key(&self.key_pem)?)?;
        Ok(Arc::new(cfg))
    }

    /// The dialling side: TLS 1.3, the server's chain verified up to the chain CA (peers are
    /// addressed by IP and node id, not by host name), our certificate presented.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>> {
        let provider = Self::provider();
        let verifier = ChainOnly { roots: self.roots.clone(), provider: provider.clone() };
        let cfg = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_auth_cert(self.chain.clone(), Self::private_key(&self.key_pem)?)?;
        Ok(Arc::new(cfg))
    }
}

/// Verifies a server's chain up to our chain CA, without host names.
#[derive(Debug)]
struct ChainOnly {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
