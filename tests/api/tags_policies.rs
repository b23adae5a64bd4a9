use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::Tag;

use crate::common::{create_key, describe, err, spawn};

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().unwrap()
}

#[tokio::test]
async fn alias_rules() {
    let t = spawn().await;
    let kms = t.client();
    let a = create_key(&kms).await;
    let b = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/app")
        .target_key_id(&a)
        .send()
        .await
        .unwrap();

    let (code, message) = err(kms
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(&b)
        .send()
        .await);
    assert_eq!(code, "AlreadyExistsException");
    assert_eq!(
        message,
        "An alias with the name arn:aws:kms:us-east-1:111122223333:alias/app already exists"
    );
    let (code, message) = err(kms
        .create_alias()
        .alias_name("app")
        .target_key_id(&b)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(message.starts_with("Alias must start with the prefix \"alias/\"."));
    for reserved in ["alias/aws/custom", "alias/aws/s3"] {
        let (code, _) = err(kms
            .create_alias()
            .alias_name(reserved)
            .target_key_id(&b)
            .send()
            .await);
        assert_eq!(code, "NotAuthorizedException");
    }
    let (code, _) = err(kms
        .create_alias()
        .alias_name("alias/x")
        .target_key_id("alias/app")
        .send()
        .await);
    assert_eq!(code, "NotFoundException");
    let (code, _) = err(kms
        .create_alias()
        .alias_name("alias/x")
        .target_key_id("11111111-2222-3333-4444-555555555555")
        .send()
        .await);
    assert_eq!(code, "NotFoundException");

    kms.update_alias()
        .alias_name("alias/app")
        .target_key_id(&b)
        .send()
        .await
        .unwrap();
    let m = describe(&kms, "alias/app").await;
    assert_eq!(m.key_id, b);
    let (code, message) = err(kms
        .update_alias()
        .alias_name("alias/none")
        .target_key_id(&b)
        .send()
        .await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        message,
        "Alias arn:aws:kms:us-east-1:111122223333:alias/none is not found."
    );

    kms.create_alias()
        .alias_name("alias/second")
        .target_key_id(&b)
        .send()
        .await
        .unwrap();
    kms.create_alias()
        .alias_name("alias/third")
        .target_key_id(&a)
        .send()
        .await
        .unwrap();
    let of_b = kms.list_aliases().key_id(&b).send().await.unwrap();
    let names: Vec<_> = of_b
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    assert_eq!(names, ["alias/app", "alias/second"]);
    // Pages of 2 over every alias: the customer's and, as on AWS, the predefined AWS
    // managed aliases (no key yet, so no TargetKeyId or dates), in name order.
    let mut listed = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_aliases()
            .limit(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        assert!(page.aliases().len() <= 2);
        listed.extend(page.aliases().to_vec());
        if !page.truncated {
            break;
        }
        marker = page.next_marker().map(str::to_owned);
    }
    let names: Vec<_> = listed.iter().filter_map(|a| a.alias_name()).collect();
    let mut expected = vec!["alias/app", "alias/second", "alias/third"];
    expected.extend(PREDEFINED);
    expected.sort();
    assert_eq!(names, expected);
    for entry in &listed {
        let predefined = PREDEFINED.contains(&entry.alias_name().unwrap());
        assert_eq!(entry.target_key_id().is_none(), predefined);
        assert_eq!(entry.creation_date().is_none(), predefined);
        assert_eq!(entry.last_updated_date().is_none(), predefined);
    }
    let third = listed
        .last()
        .filter(|a| a.alias_name() == Some("alias/third"));
    assert_eq!(
        third.and_then(|a| a.alias_arn()),
        Some("arn:aws:kms:us-east-1:111122223333:alias/third")
    );

    kms.delete_alias()
        .alias_name("alias/app")
        .send()
        .await
        .unwrap();
    let (code, _) = err(kms.delete_alias().alias_name("alias/app").send().await);
    assert_eq!(code, "NotFoundException");
    let (code, _) = err(kms.describe_key().key_id("alias/app").send().await);
    assert_eq!(code, "NotFoundException");
    // AWS managed aliases cannot be deleted either.
    kms.describe_key()
        .key_id("alias/aws/lambda")
        .send()
        .await
        .unwrap();
    let (code, _) = err(kms
        .delete_alias()
        .alias_name("alias/aws/lambda")
        .send()
        .await);
    assert_eq!(code, "NotAuthorizedException");
}

/// What ListAliases shows in a new Region before any AWS service made its key.
const PREDEFINED: [&str; 14] = [
    "alias/aws/acm",
    "alias/aws/dynamodb",
    "alias/aws/ebs",
    "alias/aws/elasticfilesystem",
    "alias/aws/es",
    "alias/aws/glue",
    "alias/aws/kinesisvideo",
    "alias/aws/lambda",
    "alias/aws/rds",
    "alias/aws/redshift",
    "alias/aws/s3",
    "alias/aws/secretsmanager",
    "alias/aws/ssm",
    "alias/aws/xray",
];

#[tokio::test]
async fn aws_managed_aliases() {
    let t = spawn().await;
    let kms = t.client();
    let listed = kms.list_aliases().send().await.unwrap();
    let names: Vec<_> = listed
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    assert_eq!(names, PREDEFINED);
    let ebs = &listed.aliases()[2];
    assert_eq!(
        ebs.alias_arn(),
        Some("arn:aws:kms:us-east-1:111122223333:alias/aws/ebs")
    );
    assert!(ebs.target_key_id().is_none());
    // First use makes the key; the alias then has it, and its dates.
    let key = kms
        .describe_key()
        .key_id("alias/aws/ebs")
        .send()
        .await
        .unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    let listed = kms.list_aliases().send().await.unwrap();
    assert_eq!(listed.aliases().len(), PREDEFINED.len());
    let ebs = &listed.aliases()[2];
    assert_eq!(ebs.alias_name(), Some("alias/aws/ebs"));
    assert_eq!(ebs.target_key_id(), Some(key_id.as_str()));
    assert!(ebs.creation_date().is_some());
    // A service alias not predefined makes its key on first use too.
    kms.encrypt()
        .key_id("alias/aws/sqs")
        .plaintext(Blob::new("message"))
        .send()
        .await
        .unwrap();
    // Any other alias/aws/ name is not found, and makes nothing.
    for name in [
        "alias/aws/custom",
        "arn:aws:kms:us-east-1:111122223333:alias/aws/custom",
    ] {
        let (code, message) = err(kms
            .encrypt()
            .key_id(name)
            .plaintext(Blob::new("x"))
            .send()
            .await);
        assert_eq!(code, "NotFoundException");
        assert_eq!(
            message,
            "Alias arn:aws:kms:us-east-1:111122223333:alias/aws/custom is not found."
        );
    }
    let listed = kms.list_aliases().limit(100).send().await.unwrap();
    let names: Vec<_> = listed
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    assert_eq!(names.len(), PREDEFINED.len() + 1);
    assert!(names.contains(&"alias/aws/sqs") && !names.contains(&"alias/aws/custom"));
    // Filtered by key, only aliases that have the key.
    let of_key = kms.list_aliases().key_id(&key_id).send().await.unwrap();
    let names: Vec<_> = of_key
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    assert_eq!(names, ["alias/aws/ebs"]);
    // An ARN whose partition is not its region's names nothing.
    let arn = format!("arn:aws-cn:kms:us-east-1:111122223333:key/{key_id}");
    let (code, message) = err(kms.describe_key().key_id(&arn).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(message, format!("Invalid keyId '{arn}'"));
}

#[tokio::test]
async fn tag_rules() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("env", "dev"))
        .tags(tag("team", ""))
        .send()
        .await
        .unwrap();
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    let tags = kms.list_resource_tags().key_id(&id).send().await.unwrap();
    let got: Vec<_> = tags
        .tags()
        .iter()
        .map(|t| (t.tag_key(), t.tag_value()))
        .collect();
    assert_eq!(got, [("env", "prod"), ("team", "")]);
    kms.untag_resource()
        .key_id(&id)
        .tag_keys("env")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    let tags = kms.list_resource_tags().key_id(&id).send().await.unwrap();
    assert_eq!(tags.tags().len(), 1);

    for reserved in ["aws:reserved", "AWS:Reserved"] {
        let (code, message) = err(kms
            .tag_resource()
            .key_id(&id)
            .tags(tag(reserved, "x"))
            .send()
            .await);
        assert_eq!(code, "TagException");
        assert_eq!(message, "Tags beginning with aws: are reserved");
    }
    let (code, message) = err(kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("d", "1"))
        .tags(tag("d", "2"))
        .send()
        .await);
    assert_eq!(code, "TagException");
    assert_eq!(message, "Duplicate tag keys");
    let mut too_many = kms.create_key();
    for i in 0..51 {
        too_many = too_many.tags(tag(&format!("k{i}"), "v"));
    }
    let (code, message) = err(too_many.send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("TagException", "Too many tags")
    );
    let (code, message) = err(kms
        .tag_resource()
        .key_id(&id)
        .tags(tag(&"k".repeat(129), "v"))
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("'tags.1.member.tagKey'"), "{message}");
    let (code, _) = err(kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("k", &"v".repeat(257)))
        .send()
        .await);
    assert_eq!(code, "ValidationException");

    let mut req = kms.tag_resource().key_id(&id);
    for i in 0..49 {
        req = req.tags(tag(&format!("k{i}"), "v"));
    }
    req.send().await.unwrap();
    let (code, _) = err(kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("one-too-many", "v"))
        .send()
        .await);
    assert_eq!(code, "LimitExceededException");

    let first = kms
        .list_resource_tags()
        .key_id(&id)
        .limit(20)
        .send()
        .await
        .unwrap();
    assert_eq!(first.tags().len(), 20);
    assert!(first.truncated);
    let mut total = first.tags().len();
    let mut marker = first.next_marker;
    while let Some(m) = marker {
        let page = kms
            .list_resource_tags()
            .key_id(&id)
            .limit(20)
            .marker(m)
            .send()
            .await
            .unwrap();
        total += page.tags().len();
        marker = page.next_marker;
    }
    assert_eq!(total, 50);
}

#[tokio::test]
async fn key_policies() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    let names = kms.list_key_policies().key_id(&id).send().await.unwrap();
    assert_eq!(names.policy_names(), ["default"]);
    assert!(!names.truncated);

    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"all","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
    kms.put_key_policy()
        .key_id(&id)
        .policy(policy)
        .send()
        .await
        .unwrap();
    let got = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy(), Some(policy));
    assert_eq!(got.policy_name(), Some("default"));

    for bad in ["not json", "[1,2]", r#"{"Version":"2012-10-17"}"#] {
        let (code, _) = err(kms.put_key_policy().key_id(&id).policy(bad).send().await);
        assert_eq!(code, "MalformedPolicyDocumentException", "{bad}");
    }
    let (code, message) = err(kms
        .put_key_policy()
        .key_id(&id)
        .policy("{\"Statement\":[],\"x\":\"\u{263a}\"}")
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("regular expression pattern"), "{message}");
    let (code, _) = err(kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("other")
        .send()
        .await);
    assert_eq!(code, "NotFoundException");
}

#[tokio::test]
async fn key_policies_are_checked_as_aws_checks_them() {
    let t = spawn().await;
    let kms = t.client();
    let key = create_key(&kms).await;
    let policy = |principal: &str, action: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"{action}","Resource":"*"}}]}}"#
        )
    };
    // A policy that would lock the account out, unless the check is bypassed.
    let locked = policy("arn:aws:iam::111122223333:role/app", "kms:Encrypt");
    let (code, message) = err(kms
        .put_key_policy()
        .key_id(&key)
        .policy(&locked)
        .send()
        .await);
    assert_eq!(code, "MalformedPolicyDocumentException");
    assert_eq!(
        message,
        "The new key policy will not allow you to update the key policy in the future."
    );
    kms.put_key_policy()
        .key_id(&key)
        .policy(&locked)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap();
    let (code, _) = err(kms.create_key().policy(&locked).send().await);
    assert_eq!(code, "MalformedPolicyDocumentException");
    // Principals must be principals.
    let (code, message) = err(kms
        .create_key()
        .policy(policy("somebody", "kms:*"))
        .send()
        .await);
    assert_eq!(code, "MalformedPolicyDocumentException");
    assert_eq!(
        message,
        "Policy contains a statement with one or more invalid principals."
    );
    // 32 KB at most.
    let padding = "x".repeat(33 * 1024);
    let large = format!(
        r#"{{"Id":"{padding}","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    let (code, _) = err(kms.put_key_policy().key_id(&key).policy(large).send().await);
    assert_eq!(code, "LimitExceededException");
}

#[tokio::test]
async fn a_forged_tag_marker_is_refused() {
    let t = spawn().await;
    let kms = t.client();
    let key = create_key(&kms).await;
    for i in 0..3 {
        kms.tag_resource()
            .key_id(&key)
            .tags(tag(&format!("k{i}"), "v"))
            .send()
            .await
            .unwrap();
    }
    for forged in ["18446744073709551615", "3", "0", "-1", "x"] {
        let (code, _) = err(kms
            .list_resource_tags()
            .key_id(&key)
            .limit(1)
            .marker(forged)
            .send()
            .await);
        assert_eq!(code, "InvalidMarkerException", "marker {forged}");
    }
}
