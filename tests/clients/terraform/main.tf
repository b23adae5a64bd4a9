# Keys, an alias, a ciphertext and the data sources that read them back, applied by
# tests/clients/test_terraform.py against a trent endpoint.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.49"
    }
  }
}

variable "endpoint" {
  description = "trent's URL, for example http://127.0.0.1:4599"
  type        = string
}

variable "secret" {
  description = "The plaintext that aws_kms_ciphertext encrypts."
  type        = string
  sensitive   = true
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true

  endpoints {
    kms = var.endpoint
  }
}

resource "aws_kms_key" "app" {
  description             = "application data key"
  deletion_window_in_days = 7
  enable_key_rotation     = true
  rotation_period_in_days = 180

  tags = {
    Project = "trent"
    Tier    = "clients"
  }
}

resource "aws_kms_alias" "app" {
  name          = "alias/terraform-app"
  target_key_id = aws_kms_key.app.key_id
}

resource "aws_kms_key" "signing" {
  description              = "release signing key"
  deletion_window_in_days  = 7
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "ECC_NIST_P256"
}

resource "aws_kms_ciphertext" "secret" {
  key_id    = aws_kms_alias.app.name
  plaintext = var.secret

  context = {
    purpose = "terraform"
  }
}

data "aws_kms_secrets" "secret" {
  secret {
    name    = "secret"
    payload = aws_kms_ciphertext.secret.ciphertext_blob

    context = {
      purpose = "terraform"
    }
  }
}

data "aws_kms_public_key" "signing" {
  key_id = aws_kms_key.signing.arn
}

output "app_key_arn" {
  value = aws_kms_key.app.arn
}

output "app_key_id" {
  value = aws_kms_key.app.key_id
}

output "alias_arn" {
  value = aws_kms_alias.app.arn
}

output "alias_target_key_arn" {
  value = aws_kms_alias.app.target_key_arn
}

output "signing_key_arn" {
  value = aws_kms_key.signing.arn
}

output "ciphertext_blob" {
  value = aws_kms_ciphertext.secret.ciphertext_blob
}

output "decrypted_secret" {
  value     = data.aws_kms_secrets.secret.plaintext["secret"]
  sensitive = true
}

output "public_key_pem" {
  value = data.aws_kms_public_key.signing.public_key_pem
}

output "public_key_spec" {
  value = data.aws_kms_public_key.signing.customer_master_key_spec
}

output "public_key_signing_algorithms" {
  value = data.aws_kms_public_key.signing.signing_algorithms
}
