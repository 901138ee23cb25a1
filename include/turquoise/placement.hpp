// turquoise/placement.hpp — placement types after ScalaLoci: peers and ties as types (peer.hpp),
// values placed on peers (placed.hpp), access through ties checked by the compiler (here.hpp),
// events and signals across peers (event.hpp, signal.hpp), the wire format of values
// (codec.hpp), and a program started as one of its peers (instance.hpp; transport.hpp is the
// seam to the message layer).
#ifndef TURQUOISE_PLACEMENT_HPP
#define TURQUOISE_PLACEMENT_HPP

#include <turquoise/placement/codec.hpp>
#include <turquoise/placement/event.hpp>
#include <turquoise/placement/here.hpp>
#include <turquoise/placement/instance.hpp>
#include <turquoise/placement/peer.hpp>
#include <turquoise/placement/placed.hpp>
#include <turquoise/placement/signal.hpp>
#include <turquoise/placement/transport.hpp>

#endif
