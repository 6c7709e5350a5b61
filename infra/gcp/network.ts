/**
 * The private path from the function to Cloud SQL. A gen 2 function cannot mount Cloud SQL's Unix
 * socket (`/cloudsql/…`): that is a setting of the Cloud Run service underneath, which the Cloud
 * Functions API neither exposes nor keeps. So the instance gets a private IP only, through private
 * services access (a range of this network peered with Google's), and the function reaches it by
 * Direct VPC egress: no connector VMs to pay for, no public IP on the database.
 * https://cloud.google.com/sql/docs/postgres/connect-functions
 * https://cloud.google.com/sql/docs/postgres/configure-private-services-access
 * https://cloud.google.com/functions/docs/running/direct-vpc
 */
import type * as pulumi from '@pulumi/pulumi'
import { type Gcp, physicalName, type StageArgs } from './common.ts'

/**
 * The function's subnet: Direct VPC egress holds about two addresses per instance, so a /24 leaves
 * room for the instance limit many times over. Cloud SQL's private services range: a /20, as Google
 * suggests for a range that other managed services may share later. Both fixed, so neither can be
 * allocated over the other.
 * https://cloud.google.com/run/docs/configuring/vpc-direct-vpc
 * https://cloud.google.com/vpc/docs/configure-private-services-access
 */
export const NETWORK_RANGES = {
  functions: '10.8.0.0/24',
  services: { address: '10.16.0.0', prefixLength: 20 },
}

export function privateNetwork(gcp: Gcp, args: StageArgs & { region: string }) {
  const network = new gcp.compute.Network('Network', {
    name: physicalName(args, 'network'),
    autoCreateSubnetworks: false,
  })
  const subnetwork = new gcp.compute.Subnetwork('FunctionsSubnetwork', {
    name: physicalName(args, 'functions'),
    network: network.id,
    region: args.region,
    ipCidrRange: NETWORK_RANGES.functions,
  })
  const servicesRange = new gcp.compute.GlobalAddress('ServicesRange', {
    name: physicalName(args, 'services'),
    network: network.id,
    purpose: 'VPC_PEERING',
    addressType: 'INTERNAL',
    address: NETWORK_RANGES.services.address,
    prefixLength: NETWORK_RANGES.services.prefixLength,
  })
  const peering = new gcp.servicenetworking.Connection('ServicesPeering', {
    network: network.id,
    service: 'servicenetworking.googleapis.com',
    reservedPeeringRanges: [servicesRange.name],
    // Cloud SQL releases the peering days after its last instance is deleted, and deleting the
    // connection fails until then; abandoned, it goes with the network.
    // https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/service_networking_connection
    deletionPolicy: 'ABANDON',
  })
  return { network, subnetwork, servicesRange, peering }
}

export type PrivateNetwork = ReturnType<typeof privateNetwork>

/** What the function needs to join the network: names, as the Cloud Functions API takes them. */
export function directVpcEgress(net: {
  network: { name: pulumi.Input<string> }
  subnetwork: { name: pulumi.Input<string> }
}) {
  return {
    directVpcNetworkInterfaces: [{ network: net.network.name, subnetwork: net.subnetwork.name }],
    // Only private ranges (the database) go through the VPC; Pub/Sub and Secret Manager stay on
    // Google's default path, which needs no NAT.
    directVpcEgress: 'VPC_EGRESS_PRIVATE_RANGES_ONLY',
  }
}
